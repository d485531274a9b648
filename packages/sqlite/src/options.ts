import { functionOption, integerOption, invalidOption, oneOfOption } from '@plugboard/core/spi';

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

/** Checks the options when the store is built, so nothing invalid is found later inside a write. */
export function resolveSqliteStoreOptions(options: SqliteStoreOptions): ResolvedSqliteStoreOptions {
  if (options === null || typeof options !== 'object') {
    throw invalidOption('options', 'an object with a `path`', options);
  }
  const { path } = options;
  if (typeof path !== 'string' || path.trim().length === 0) {
    throw invalidOption('path', 'a non-empty string', path);
  }
  const busyTimeoutMs = integerOption('busyTimeoutMs', options.busyTimeoutMs, 0, 5000);
  const synchronous = oneOfOption(
    'synchronous',
    options.synchronous,
    ['normal', 'full'],
    'normal',
    "'normal' or 'full'",
  );
  const now = functionOption('now', options.now, Date.now, 'a function returning ms since the epoch');
  return {
    path,
    busyTimeoutMs,
    synchronous,
    maxFinishedTasks: integerOption('maxFinishedTasks', options.maxFinishedTasks, 1, 10_000),
    maxFinishedAgeMs: integerOption('maxFinishedAgeMs', options.maxFinishedAgeMs, 1, 86_400_000),
    maxLogEntriesPerTask: integerOption('maxLogEntriesPerTask', options.maxLogEntriesPerTask, 1, 1000),
    now,
  };
}
