import type { RetryPolicy, TaskErrorInfo, TaskLogEntry, TaskRecord } from '../task.js';
import { MAX_TIMER_MS } from '../timers.js';

/**
 * The rules of a task's life between attempts, in one place: every runtime (in-process, BullMQ, isolated) and
 * crash recovery use them, so a task retries, ends and recovers the same way wherever it runs.
 */

/** A crashed task is run again at least this many attempts in all when its type is retry-safe. */
const CRASH_RETRY_ATTEMPTS = 3;

/** The delay before the next attempt, or `undefined` when no attempt is left. */
export function retryDelay(
  policy: RetryPolicy | undefined,
  attempt: number,
  maxAttempts: number,
): number | undefined {
  if (attempt >= maxAttempts) return undefined;
  const backoff = policy?.backoff ?? { type: 'exponential', delayMs: 1000 };
  const delay = backoff.type === 'fixed' ? backoff.delayMs : backoff.delayMs * 2 ** (attempt - 1);
  // A longer delay would overflow the timer and fire at once.
  return Math.min(delay, MAX_TIMER_MS);
}

/** The record of the attempt after `record`'s, queued again with the error that ended the previous one. */
export function nextAttempt(
  record: TaskRecord,
  error: TaskErrorInfo | null,
  logCount: number = record.logCount,
): TaskRecord {
  return {
    ...record,
    state: 'queued',
    attempt: record.attempt + 1,
    startedAt: null,
    finishedAt: null,
    logCount,
    error,
  };
}

/** The fields a store writes when a task is queued for its next attempt ({@link nextAttempt}). */
export function nextAttemptPatch(next: TaskRecord): Partial<TaskRecord> {
  return {
    state: next.state,
    attempt: next.attempt,
    startedAt: null,
    finishedAt: null,
    error: next.error,
    logCount: next.logCount,
  };
}

/** The fields a store writes when a task has ended, taken from its final record. */
export function endPatch(record: TaskRecord): Partial<TaskRecord> {
  return {
    state: record.state,
    attempt: record.attempt,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
    result: record.result,
    error: record.error,
    progress: record.progress,
    progressMessage: record.progressMessage,
    statusText: record.statusText,
    logCount: record.logCount,
  };
}

/** What {@link recoverCrashed} knows about a task a stopped process (or worker) left running. */
export interface CrashFacts {
  /** Whether the task's type is registered, marked `retrySafe` and its plugin can run it now. */
  readonly retrySafe: boolean;
  /** Who stopped, for the log line: the host's `process` or a BullMQ `worker`. */
  readonly runner: 'process' | 'worker';
  /** The time to record. */
  readonly now: number;
  /** The last log line stored for the task, so the recovery line follows it. */
  readonly lastLogSeq: number;
}

/** What becomes of a task a stopped process left running. */
export interface CrashVerdict {
  /** True when the task is queued for another attempt; false when it is recorded `interrupted`. */
  readonly rerun: boolean;
  /** The line logged for the task, saying which. */
  readonly log: TaskLogEntry;
  /** The record afterwards: the next attempt, or the interrupted end. */
  readonly record: TaskRecord;
  /** The fields to write over the stored record. */
  readonly patch: Partial<TaskRecord>;
}

/**
 * The crash rule: a task whose process stopped while it ran runs again from the start when its type is retry-safe
 * (up to its attempts, and at least three in all); otherwise it is recorded `interrupted`.
 */
export function recoverCrashed(record: TaskRecord, facts: CrashFacts): CrashVerdict {
  const rerun = facts.retrySafe && record.attempt < Math.max(record.maxAttempts, CRASH_RETRY_ATTEMPTS);
  const message = rerun
    ? `The ${facts.runner} running this task stopped; the task type is retry-safe, so it runs again.`
    : `The ${facts.runner} running this task stopped before it finished.`;
  const seq = facts.lastLogSeq + 1;
  const log: TaskLogEntry = { seq, time: facts.now, level: 'always', message };
  const error = { code: 'PLUGBOARD_TASK_INTERRUPTED', message };
  if (rerun) {
    const next = nextAttempt(record, error, seq);
    return { rerun, log, record: next, patch: next };
  }
  const patch = { state: 'interrupted' as const, finishedAt: facts.now, logCount: seq, error };
  return { rerun, log, record: { ...record, ...patch }, patch };
}
