import type { TaskRecord } from '@plugboard/core';

/** The exit codes of a Plugboard CLI: what a shell script can branch on. */
export const ExitCode = {
  /** Every task succeeded (or the command had no tasks to run). */
  Success: 0,
  /** A task failed, was cancelled, timed out or was interrupted, or the run could not start. */
  TaskFailed: 1,
  /** Usage error: unknown plugin or command, bad flag, bad value. */
  Usage: 2,
  /** The plugin is not operational (not ready, invalid, failed or disabled). */
  NotOperational: 3,
} as const;

/** One of the {@link ExitCode} values. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

// Errors a person fixes by changing the command line.
const USAGE_CODES: ReadonlySet<string> = new Set([
  'PLUGBOARD_INVALID_ARGUMENTS',
  'PLUGBOARD_UNKNOWN_PLUGIN',
  'PLUGBOARD_CONTEXT_REQUIRED',
  'PLUGBOARD_UNKNOWN_CONTEXT',
  'PLUGBOARD_UNKNOWN_TASK',
  'PLUGBOARD_UNKNOWN_SCHEDULE',
]);

const NOT_OPERATIONAL_CODES: ReadonlySet<string> = new Set([
  'PLUGBOARD_PLUGIN_NOT_OPERATIONAL',
  'PLUGBOARD_PLUGIN_DISABLED',
]);

/**
 * The `PLUGBOARD_*` code of a thrown value, read by shape rather than `instanceof`: the host may have been
 * built from another copy of `@plugboard/core` than this package.
 */
export function errorCodeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('PLUGBOARD_') ? code : undefined;
}

/** The exit code for an error the host raised before any task ran. */
export function exitCodeForError(error: unknown): ExitCodeValue {
  const code = errorCodeOf(error);
  if (code && USAGE_CODES.has(code)) return ExitCode.Usage;
  if (code && NOT_OPERATIONAL_CODES.has(code)) return ExitCode.NotOperational;
  return ExitCode.TaskFailed;
}

/** 0 when every task succeeded, 1 otherwise. */
export function exitCodeForTasks(records: readonly TaskRecord[]): ExitCodeValue {
  return records.every((r) => r.state === 'succeeded') ? ExitCode.Success : ExitCode.TaskFailed;
}
