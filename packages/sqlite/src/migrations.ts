import { PlugboardError } from '@plugboard/core';
import type BetterSqlite3 from 'better-sqlite3';

/** One step of the schema; `version` is what `PRAGMA user_version` reads once it ran. */
export interface Migration {
  /** The schema version once this step ran: 1 for the first step, one more for each next one. */
  readonly version: number;
  /** What the step changes, for people reading the history. */
  readonly description: string;
  /** The statements the step runs; pending steps run together in one transaction. */
  readonly sql: string;
}

/** Marks the file as a Plugboard store (`PRAGMA application_id`, "PBRD"), so a foreign database is refused. */
export const APPLICATION_ID = 0x50425244;

/**
 * Every schema step, oldest first. Append new steps; never edit or remove a released one, since databases in the
 * field are at every version.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'tasks, task logs, schedules and the plugin catalogue',
    sql: `
      CREATE TABLE tasks (
        id TEXT PRIMARY KEY NOT NULL,
        plugin_id TEXT NOT NULL,
        task_type TEXT NOT NULL,
        user_id TEXT NOT NULL,
        state TEXT NOT NULL,
        input TEXT,
        user TEXT NOT NULL,
        progress REAL NOT NULL,
        progress_message TEXT,
        status_text TEXT,
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        finished_at INTEGER,
        result TEXT,
        error TEXT,
        attempt INTEGER NOT NULL,
        max_attempts INTEGER NOT NULL,
        priority INTEGER NOT NULL,
        timeout_ms INTEGER,
        schedule_id TEXT,
        context_id TEXT,
        log_count INTEGER NOT NULL,
        retired_at INTEGER,
        retired_seq INTEGER
      );
      -- Ids sort by creation time: the primary key is the creation-order index, and (filter, id) serves
      -- "newest first" listing and cursor paging for each filter.
      CREATE INDEX tasks_by_user ON tasks (user_id, id);
      CREATE INDEX tasks_by_plugin ON tasks (plugin_id, id);
      CREATE INDEX tasks_by_state ON tasks (state, id);
      CREATE INDEX tasks_by_retired_seq ON tasks (retired_seq) WHERE retired_seq IS NOT NULL;
      CREATE INDEX tasks_by_retired_at ON tasks (retired_at) WHERE retired_at IS NOT NULL;

      CREATE TABLE task_logs (
        task_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        time INTEGER NOT NULL,
        level TEXT NOT NULL,
        message TEXT NOT NULL,
        PRIMARY KEY (task_id, seq)
      );
      CREATE TRIGGER tasks_drop_logs AFTER DELETE ON tasks BEGIN
        DELETE FROM task_logs WHERE task_id = old.id;
      END;

      CREATE TABLE schedules (
        id TEXT PRIMARY KEY NOT NULL,
        plugin_id TEXT NOT NULL,
        delay_seconds REAL NOT NULL,
        repeat_seconds REAL NOT NULL,
        next_run_at INTEGER,
        last_run_at INTEGER,
        last_task_ids TEXT NOT NULL,
        last_state TEXT,
        runs INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );

      CREATE TABLE plugins (
        id TEXT PRIMARY KEY NOT NULL,
        enabled INTEGER NOT NULL,
        last_status TEXT,
        last_reason TEXT,
        first_seen_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 2,
    description: 'child tasks (parent id) and why a queued task waits',
    sql: `
      ALTER TABLE tasks ADD COLUMN parent_id TEXT;
      ALTER TABLE tasks ADD COLUMN waiting_reason TEXT;
      CREATE INDEX tasks_by_parent ON tasks (parent_id, id) WHERE parent_id IS NOT NULL;
      `,
  },
  {
    version: 3,
    description: 'cron schedules and idempotency keys',
    sql: `
      ALTER TABLE schedules ADD COLUMN cron TEXT;
      ALTER TABLE schedules ADD COLUMN time_zone TEXT;
      CREATE TABLE idempotency_keys (
        key TEXT PRIMARY KEY NOT NULL,
        claim_id TEXT NOT NULL,
        plugin_id TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        task_ids TEXT,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
    `,
  },
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = migrations.at(-1)!.version;

/** Throws when the database was written by a newer schema than this build knows. */
export function assertKnownVersion(version: number, path: string): void {
  if (version > SCHEMA_VERSION) {
    throw new PlugboardError(
      'PLUGBOARD_STORE_NEWER_VERSION',
      `The SQLite store at \`${path}\` has schema version ${version}, but this @plugboard/sqlite knows versions up to ${SCHEMA_VERSION}: upgrade Plugboard, or point the host at another file. The file was left untouched.`,
      { details: { path, version, supported: SCHEMA_VERSION } },
    );
  }
}

/** Throws when the file holds some other application's database. */
export function assertPlugboardFile(applicationId: number, path: string): void {
  if (applicationId !== 0 && applicationId !== APPLICATION_ID) {
    throw new PlugboardError(
      'PLUGBOARD_STORE_UNAVAILABLE',
      `\`${path}\` is an SQLite database of another application (application_id ${applicationId}); give the store its own file.`,
      { details: { path, applicationId } },
    );
  }
}

/**
 * Brings the schema up to {@link SCHEMA_VERSION} in one immediate transaction, so two processes opening the same
 * fresh file cannot both migrate it.
 */
export function migrate(db: BetterSqlite3.Database, path: string): void {
  const run = db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    assertKnownVersion(version, path);
    assertPlugboardFile(db.pragma('application_id', { simple: true }) as number, path);
    for (const migration of migrations) {
      if (migration.version <= version) continue;
      db.exec(migration.sql);
    }
    if (version < SCHEMA_VERSION) {
      db.pragma(`application_id = ${APPLICATION_ID}`);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    }
  });
  run.immediate();
}
