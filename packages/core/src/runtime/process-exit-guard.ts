import { AsyncLocalStorage } from 'node:async_hooks';

/** What a guarded `process.exit` call from inside a task turns into. */
export interface ExitScope {
  /** Records the refused call on the task and returns the error thrown at the call site. */
  refuse(code: unknown): Error;
}

const scopes = new AsyncLocalStorage<ExitScope>();
let original: typeof process.exit | undefined;
let guarded: typeof process.exit | undefined;
let installs = 0;

/** Runs `fn` (a task's `run`) so that a guarded `process.exit` reached from it, at any depth, is refused. */
export function runInExitScope<T>(scope: ExitScope, fn: () => T): T {
  return scopes.run(scope, fn);
}

/**
 * Replaces `process.exit` with a guard while at least one host that asked for it runs: a call made in a task's
 * asynchronous context throws the scope's error instead of ending the process; any other call exits as usual.
 * Returns the function that removes this host's claim (the last one restores the original `process.exit`).
 */
export function installProcessExitGuard(): () => void {
  if (installs === 0) {
    const exit = process.exit;
    original = exit;
    guarded = function guardedExit(code?: number | string | null): never {
      const scope = scopes.getStore();
      if (scope) throw scope.refuse(code);
      return exit.call(process, code);
    } as typeof process.exit;
    process.exit = guarded;
  }
  installs++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    installs--;
    if (installs > 0) return;
    // Someone replaced process.exit after the guard went in: leave theirs in place.
    if (process.exit === guarded && original) process.exit = original;
    original = undefined;
    guarded = undefined;
  };
}
