import { PlugboardError } from '@plugboard/core';
import type pg from 'pg';

/** One step of the schema, recorded in the schema's `migrations` table once it ran. */
export interface Migration {
  /** The schema version once this step ran: 1 for the first step, one more for each next one. */
  readonly version: number;
  /** What the step changes, for people reading the history. */
  readonly description: string;
  /** The statements of the step, with every table qualified by `schema`; pending steps run in one transaction. */
  sql(schema: string): string;
}

/**
 * Every schema step, oldest first. Append new steps; never edit or remove a released one, since databases in the
 * field are at every version.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'tasks, task logs, schedules, the plugin catalogue and the processes sharing them',
    sql: (s) => `
      CREATE SEQUENCE ${s}.retired_seq;
      -- Ids sort by creation time; COLLATE "C" keeps the byte order the ids and cursors are built on, whatever
      -- the database's own collation.
      CREATE TABLE ${s}.tasks (
        id text COLLATE "C" PRIMARY KEY,
        plugin_id text NOT NULL,
        task_type text NOT NULL,
        user_id text NOT NULL,
        state text NOT NULL,
        input json,
        "user" json NOT NULL,
        progress double precision NOT NULL,
        progress_message text,
        status_text text,
        created_at double precision NOT NULL,
        started_at double precision,
        finished_at double precision,
        result json,
        error json,
        attempt integer NOT NULL,
        max_attempts integer NOT NULL,
        priority integer NOT NULL,
        timeout_ms double precision,
        schedule_id text,
        context_id text,
        log_count integer NOT NULL,
        owner text,
        retired_at double precision,
        retired_seq bigint
      );
      CREATE INDEX tasks_by_user ON ${s}.tasks (user_id, id);
      CREATE INDEX tasks_by_plugin ON ${s}.tasks (plugin_id, id);
      CREATE INDEX tasks_by_state ON ${s}.tasks (state, id);
      CREATE INDEX tasks_unfinished ON ${s}.tasks (id) WHERE state IN ('queued', 'running');
      CREATE INDEX tasks_by_retired_seq ON ${s}.tasks (retired_seq) WHERE retired_seq IS NOT NULL;
      CREATE INDEX tasks_by_retired_at ON ${s}.tasks (retired_at) WHERE retired_at IS NOT NULL;

      CREATE TABLE ${s}.task_logs (
        task_id text COLLATE "C" NOT NULL REFERENCES ${s}.tasks (id) ON DELETE CASCADE,
        seq integer NOT NULL,
        time double precision NOT NULL,
        level text NOT NULL,
        message text NOT NULL,
        PRIMARY KEY (task_id, seq)
      );

      CREATE TABLE ${s}.schedules (
        id text PRIMARY KEY,
        saved_order bigint GENERATED ALWAYS AS IDENTITY,
        plugin_id text NOT NULL,
        delay_seconds double precision NOT NULL,
        repeat_seconds double precision NOT NULL,
        next_run_at double precision,
        last_run_at double precision,
        last_task_ids json NOT NULL,
        last_state text,
        runs integer NOT NULL,
        created_at double precision NOT NULL,
        updated_at double precision NOT NULL
      );

      -- When each shared schedule fires next: apart from the schedule records the hosts write, so one process
      -- claims a due firing (FOR UPDATE SKIP LOCKED) and the others skip it.
      CREATE TABLE ${s}.schedule_timers (
        id text PRIMARY KEY,
        delay_seconds double precision NOT NULL,
        repeat_seconds double precision NOT NULL,
        next_run_at double precision
      );

      CREATE TABLE ${s}.plugins (
        id text PRIMARY KEY,
        saved_order bigint GENERATED ALWAYS AS IDENTITY,
        enabled boolean NOT NULL,
        last_status text,
        last_reason text,
        first_seen_at double precision NOT NULL,
        last_seen_at double precision NOT NULL
      );

      -- The host processes using the schema; one is alive while it holds the advisory lock (lock_space, lock_key).
      CREATE TABLE ${s}.processes (
        id text PRIMARY KEY,
        lock_key integer NOT NULL UNIQUE,
        started_at bigint NOT NULL
      );
    `,
  },
  {
    version: 2,
    description: 'child tasks and why a queued task waits, cron schedules, idempotency keys',
    sql: (s) => `
      ALTER TABLE ${s}.tasks ADD COLUMN parent_id text COLLATE "C";
      ALTER TABLE ${s}.tasks ADD COLUMN waiting_reason text;
      CREATE INDEX tasks_by_parent ON ${s}.tasks (parent_id, id) WHERE parent_id IS NOT NULL;

      ALTER TABLE ${s}.schedules ADD COLUMN cron text;
      ALTER TABLE ${s}.schedules ADD COLUMN time_zone text;
      ALTER TABLE ${s}.schedule_timers ADD COLUMN cron text;
      ALTER TABLE ${s}.schedule_timers ADD COLUMN time_zone text;

      -- One row per key; a claim inserts or takes over the row in one statement (INSERT ... ON CONFLICT), so two
      -- processes claiming a key together cannot both hold it.
      CREATE TABLE ${s}.idempotency_keys (
        key text COLLATE "C" PRIMARY KEY,
        claim_id text NOT NULL,
        plugin_id text NOT NULL,
        fingerprint text NOT NULL,
        task_ids json,
        created_at double precision NOT NULL,
        expires_at double precision NOT NULL
      );
      CREATE INDEX idempotency_keys_by_expiry ON ${s}.idempotency_keys (expires_at);
    `,
  },
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = migrations.at(-1)!.version;

/** The first key of every advisory lock the store takes in `schema`: migrations, process liveness. */
export function lockSpace(schema: string): number {
  let hash = 0x5042;
  for (const char of `plugboard:${schema}`) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) | 0;
  return hash & 0x7fffffff;
}

/** Throws when the schema was written by a newer version of the store than this build knows. */
export function assertKnownVersion(version: number, schema: string): void {
  if (version > SCHEMA_VERSION) {
    throw new PlugboardError(
      'PLUGBOARD_STORE_NEWER_VERSION',
      `The PostgreSQL store in schema \`${schema}\` has schema version ${version}, but this @plugboard/postgres knows versions up to ${SCHEMA_VERSION}: upgrade Plugboard in every process sharing the database, or give this host another \`schema\`. Nothing was changed.`,
      { details: { schema, version, supported: SCHEMA_VERSION } },
    );
  }
}

/**
 * Brings the schema up to {@link SCHEMA_VERSION} in one transaction, under an advisory lock, so processes that
 * start together on a fresh database migrate it once.
 */
export async function migrate(client: pg.PoolClient, schema: string): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, 0)', [lockSpace(schema)]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${schema}.migrations (
         version integer PRIMARY KEY,
         description text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await client.query<{ version: number | null }>(
      `SELECT max(version) AS version FROM ${schema}.migrations`,
    );
    const version = rows[0]?.version ?? 0;
    assertKnownVersion(version, schema);
    for (const migration of migrations) {
      if (migration.version <= version) continue;
      await client.query(migration.sql(schema));
      await client.query(`INSERT INTO ${schema}.migrations (version, description) VALUES ($1, $2)`, [
        migration.version,
        migration.description,
      ]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}
