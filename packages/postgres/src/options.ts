import { functionOption, integerOption, invalidOption } from '@plugboard/core/spi';
import type pg from 'pg';

/** Options of {@link postgresStore}. Give either `connectionString` or `pool`. */
export interface PostgresStoreOptions {
  /**
   * Where the database is: the store creates its own pool on it (and ends that pool on `close()`).
   *
   * @example
   * postgresStore({ connectionString: process.env.DATABASE_URL })
   */
  readonly connectionString?: string;
  /**
   * A `pg` pool the host already has: the store borrows its connections and never ends it. The store also takes
   * one connection of its own for change notifications while it is open.
   */
  readonly pool?: pg.Pool;
  /**
   * Connections of the pool the store creates from `connectionString`.
   * @default 10
   */
  readonly maxConnections?: number;
  /**
   * The schema the store's tables live in, created when missing; hosts that share one database share a schema.
   * @default 'plugboard'
   */
  readonly schema?: string;
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
  /**
   * How often a process looks for schedules due in the database, and for other processes that stopped.
   * @default 1000
   */
  readonly pollIntervalMs?: number;
  /** Clock used for age-based retention. @default Date.now */
  readonly now?: () => number;
}

/** Options with every default filled in. */
export interface ResolvedPostgresStoreOptions {
  readonly connectionString: string | undefined;
  readonly pool: pg.Pool | undefined;
  readonly maxConnections: number;
  readonly schema: string;
  readonly maxFinishedTasks: number;
  readonly maxFinishedAgeMs: number;
  readonly maxLogEntriesPerTask: number;
  readonly pollIntervalMs: number;
  readonly now: () => number;
}

/** A plain identifier, so the schema name can be written into SQL unquoted and needs no escaping. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function isPool(value: unknown): value is pg.Pool {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as pg.Pool).connect === 'function' &&
    typeof (value as pg.Pool).query === 'function'
  );
}

/** Checks the options when the store is built, so nothing invalid is found later inside a write. */
export function resolvePostgresStoreOptions(options: PostgresStoreOptions): ResolvedPostgresStoreOptions {
  if (options === null || typeof options !== 'object') {
    throw invalidOption('options', 'an object with a `connectionString` or a `pool`', options);
  }
  const { connectionString, pool } = options;
  if (pool !== undefined && !isPool(pool)) throw invalidOption('pool', 'a pg Pool', pool);
  if (
    connectionString !== undefined &&
    (typeof connectionString !== 'string' || connectionString.trim() === '')
  ) {
    throw invalidOption('connectionString', 'a non-empty string', connectionString);
  }
  if ((pool === undefined) === (connectionString === undefined)) {
    throw invalidOption(
      'connectionString',
      'a string when no `pool` is given (give one of the two)',
      connectionString,
    );
  }
  const schema = options.schema ?? 'plugboard';
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema)) {
    throw invalidOption('schema', 'a lower-case SQL identifier (letters, digits, `_`)', schema);
  }
  return {
    connectionString,
    pool,
    maxConnections: integerOption('maxConnections', options.maxConnections, 1, 10),
    schema,
    maxFinishedTasks: integerOption('maxFinishedTasks', options.maxFinishedTasks, 1, 10_000),
    maxFinishedAgeMs: integerOption('maxFinishedAgeMs', options.maxFinishedAgeMs, 1, 86_400_000),
    maxLogEntriesPerTask: integerOption('maxLogEntriesPerTask', options.maxLogEntriesPerTask, 1, 1000),
    pollIntervalMs: integerOption('pollIntervalMs', options.pollIntervalMs, 10, 1000),
    now: functionOption('now', options.now, Date.now, 'a function returning ms since the epoch'),
  };
}
