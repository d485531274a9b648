import { describeValue, PlugboardError } from '@plugboard/core';

/** How hard SQLite works to keep a commit on disk. */
export type SqliteSynchronous = 'normal' | 'full';

/** Options of {@link sqliteStore}. */
export interface SqliteStoreOptions {
  /**
   * The database file; its folder is created when missing. `':memory:'` keeps everything in memory (tests only:
   * nothing survives the process).
   *
   * @example
   * sqliteStore({ path: '.data/plugboard.db' })
   */
  readonly path: string;
  /**
   * How long a write waits for a lock held by another connection (a backup, an admin shell) before failing.
   * @default 5000
   */
  readonly busyTimeoutMs?: number;
  /**
   * `normal` keeps every commit across a process crash (WAL mode); `full` also across a power cut, at the cost
   * of one fsync per batch.
   * @default 'normal'
   */
  readonly synchronous?: SqliteSynchronous;
  /**
   * Finished tasks kept; the oldest finished are evicted first, with their logs.
   * @default 10000
   */
  readonly maxFinishedTasks?: number;
  /**
   * Finished tasks older than this (ms since they finished) are evicted, with their logs.
   * @default 86_400_000 (one day)
   */
  readonly maxFinishedAgeMs?: number;
  /**
   * Log lines kept per task; older lines are dropped first (their `seq` numbers stay, so readers see the gap).
   * @default 1000
   */
  readonly maxLogEntriesPerTask?: number;
  /** Clock used for age-based retention. @default Date.now */
  readonly now?: () => number;
}

/** Options with every default filled in. */
export interface ResolvedSqliteStoreOptions {
  readonly path: string;
  readonly busyTimeoutMs: number;
  readonly synchronous: SqliteSynchronous;
  readonly maxFinishedTasks: number;
  readonly maxFinishedAgeMs: number;
  readonly maxLogEntriesPerTask: number;
  readonly now: () => number;
}

function invalid(name: string, expected: string, value: unknown): PlugboardError {
  return new PlugboardError(
    'PLUGBOARD_INVALID_OPTION',
    `Expected \`${name}\` to be ${expected}, got ${describeValue(value)}.`,
  );
}

function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw invalid(name, 'an integer >= 1', value);
  }
  return value;
}

/** Checks the options when the store is built, so nothing invalid is found later inside a write. */
export function resolveSqliteStoreOptions(options: SqliteStoreOptions): ResolvedSqliteStoreOptions {
  if (options === null || typeof options !== 'object') {
    throw invalid('options', 'an object with a `path`', options);
  }
  const { path, busyTimeoutMs, synchronous, now } = options;
  if (typeof path !== 'string' || path.trim().length === 0) {
    throw invalid('path', 'a non-empty string', path);
  }
  if (
    busyTimeoutMs !== undefined &&
    (typeof busyTimeoutMs !== 'number' || !Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0)
  ) {
    throw invalid('busyTimeoutMs', 'an integer >= 0', busyTimeoutMs);
  }
  if (synchronous !== undefined && synchronous !== 'normal' && synchronous !== 'full') {
    throw invalid('synchronous', "'normal' or 'full'", synchronous);
  }
  if (now !== undefined && typeof now !== 'function') {
    throw invalid('now', 'a function returning ms since the epoch', now);
  }
  return {
    path,
    busyTimeoutMs: busyTimeoutMs ?? 5000,
    synchronous: synchronous ?? 'normal',
    maxFinishedTasks: positiveInteger('maxFinishedTasks', options.maxFinishedTasks, 10_000),
    maxFinishedAgeMs: positiveInteger('maxFinishedAgeMs', options.maxFinishedAgeMs, 86_400_000),
    maxLogEntriesPerTask: positiveInteger('maxLogEntriesPerTask', options.maxLogEntriesPerTask, 1000),
    now: now ?? Date.now,
  };
}
