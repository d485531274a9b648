import { type ChildProcess, fork } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import type { HostToWorkerMessage, WorkerToHostMessage } from './protocol.js';

/** How a worker ended. */
export interface WorkerExit {
  /** The exit code, when it exited with one (a `process.exit(3)` in a task gives 3). */
  readonly code: number | null;
  /** The signal that ended a child process, if any. */
  readonly signal: string | null;
  /** True when it ended because a task passed the memory limit. */
  readonly resourceLimit: boolean;
  /** True when the host ended it (`terminate()`). */
  readonly terminated: boolean;
  /** An error the worker reported as it ended (a failed bootstrap), if any. */
  readonly error?: Error;
}

/** What the pool needs to start a worker. */
export interface TaskWorkerSpec {
  /** `'thread'` or `'process'`. */
  readonly mode: 'thread' | 'process';
  /** The worker's bootstrap module. */
  readonly entry: string;
  /** Node options of the worker (permission flags and the heap limit for a process). */
  readonly execArgv: readonly string[];
  /** The heap limit, in megabytes. */
  readonly memoryLimitMb: number;
}

/** The last characters of a child's stderr kept to tell an out-of-memory crash from another one. */
const STDERR_TAIL = 4096;

/** One worker thread or child process running tasks one at a time, behind one interface. */
export class TaskWorker {
  readonly mode: 'thread' | 'process';
  /** Settles once the worker has ended, whatever ended it. */
  readonly exited: Promise<WorkerExit>;
  readonly #thread: Worker | undefined;
  readonly #child: ChildProcess | undefined;
  readonly #listeners = new Set<(message: WorkerToHostMessage) => void>();
  readonly #exitListeners = new Set<(exit: WorkerExit) => void>();
  #exit: WorkerExit | undefined;
  #terminated = false;
  #ended = false;

  constructor(spec: TaskWorkerSpec) {
    this.mode = spec.mode;
    let resolveExit!: (exit: WorkerExit) => void;
    this.exited = new Promise((resolve) => {
      resolveExit = (exit) => {
        this.#ended = true;
        this.#exit = exit;
        resolve(exit);
        for (const listener of this.#exitListeners) listener(exit);
        this.#exitListeners.clear();
      };
    });
    const deliver = (message: unknown) => {
      for (const listener of this.#listeners) listener(message as WorkerToHostMessage);
    };
    if (spec.mode === 'thread') {
      const thread = new Worker(spec.entry, {
        execArgv: [...spec.execArgv],
        resourceLimits: { maxOldGenerationSizeMb: spec.memoryLimitMb },
        stdout: false,
        stderr: false,
      });
      this.#thread = thread;
      let error: (Error & { code?: string }) | undefined;
      thread.on('message', deliver);
      thread.on('error', (e) => {
        error = e as Error & { code?: string };
      });
      thread.on('exit', (code) =>
        resolveExit({
          code,
          signal: null,
          resourceLimit: error?.code === 'ERR_WORKER_OUT_OF_MEMORY',
          terminated: this.#terminated,
          ...(error ? { error } : {}),
        }),
      );
    } else {
      const child = fork(spec.entry, [], {
        execArgv: [...spec.execArgv, `--max-old-space-size=${spec.memoryLimitMb}`],
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      });
      this.#child = child;
      let tail = '';
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => {
        process.stderr.write(chunk);
        tail = (tail + chunk).slice(-STDERR_TAIL);
      });
      child.on('message', deliver);
      let spawnError: Error | undefined;
      child.on('error', (e) => {
        spawnError = e;
      });
      child.on('exit', (code, signal) =>
        resolveExit({
          code,
          signal,
          resourceLimit: /heap out of memory|Reached heap limit/i.test(tail),
          terminated: this.#terminated,
          ...(spawnError ? { error: spawnError } : {}),
        }),
      );
    }
  }

  /** The process id of a child process worker. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** True once the worker has ended. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Sends a message; a worker that has ended drops it. */
  send(message: HostToWorkerMessage): void {
    if (this.#ended) return;
    try {
      if (this.#thread) this.#thread.postMessage(message);
      else if (this.#child?.connected) this.#child.send(message);
    } catch {
      // The worker is ending: its exit is reported through `exited`.
    }
  }

  /** Listens to the worker's messages; returns the function that stops listening. */
  onMessage(listener: (message: WorkerToHostMessage) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Calls `listener` once the worker has ended (in a microtask when it has already); returns the function that
   * stops listening. Unlike a `then` on {@link exited}, a listener removed is released at once: a task that
   * watches its worker's end while it runs leaves nothing behind on a worker that runs thousands more.
   */
  onExit(listener: (exit: WorkerExit) => void): () => void {
    const exit = this.#exit;
    if (exit !== undefined) {
      let active = true;
      queueMicrotask(() => {
        if (active) listener(exit);
      });
      return () => {
        active = false;
      };
    }
    this.#exitListeners.add(listener);
    return () => this.#exitListeners.delete(listener);
  }

  /** Ends the worker at once, whatever it is doing, and resolves once it has ended. */
  async terminate(): Promise<WorkerExit> {
    if (!this.#ended) {
      this.#terminated = true;
      // An idle worker is unreferenced: hold the event loop until its end is seen, or `stop()` never resolves.
      this.ref(true);
      if (this.#thread) void this.#thread.terminate();
      else this.#child?.kill('SIGKILL');
    }
    return this.exited;
  }

  /** Keeps the host's event loop alive while a task runs; an idle worker does not. */
  ref(busy: boolean): void {
    const handle = this.#thread ?? this.#child;
    if (!handle) return;
    // A child process holds three handles: the process, its IPC channel and the pipe its stderr is read from.
    const stderr = this.#child?.stderr as { ref?: () => void; unref?: () => void } | null | undefined;
    const channel = this.#child?.channel as { ref?: () => void; unref?: () => void } | null | undefined;
    if (busy) {
      handle.ref();
      channel?.ref?.();
      stderr?.ref?.();
    } else {
      handle.unref();
      channel?.unref?.();
      stderr?.unref?.();
    }
  }
}
