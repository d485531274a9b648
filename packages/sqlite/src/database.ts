import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { isPlugboardError, PlugboardError } from '@plugboard/core';
import Database from 'better-sqlite3';
import { assertKnownVersion, assertPlugboardFile, migrate } from './migrations.js';
import type { ResolvedSqliteStoreOptions } from './options.js';

const IN_MEMORY = ':memory:';

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Reads the schema version through a read-only connection, which never writes, checkpoints or rolls back
 * anything: a file from a newer Plugboard is refused without being touched.
 */
function checkExistingFile(path: string): void {
  if (!existsSync(path) || statSync(path).size === 0) return;
  let probe: Database.Database | undefined;
  let version: number;
  let applicationId: number;
  try {
    probe = new Database(path, { readonly: true, fileMustExist: true });
    version = probe.pragma('user_version', { simple: true }) as number;
    applicationId = probe.pragma('application_id', { simple: true }) as number;
  } catch {
    // Not readable this way (not a database, a hot journal to roll back...): the read-write open reports it.
    return;
  } finally {
    probe?.close();
  }
  assertKnownVersion(version, path);
  assertPlugboardFile(applicationId, path);
}

/**
 * Opens the store's database: WAL journal, busy timeout, migrations to the current schema. Every failure is a
 * {@link PlugboardError}: `PLUGBOARD_STORE_NEWER_VERSION` for a newer schema, `PLUGBOARD_STORE_UNAVAILABLE` with
 * the SQLite error as `cause` otherwise.
 */
export function openDatabase(options: ResolvedSqliteStoreOptions): Database.Database {
  const { path } = options;
  let db: Database.Database | undefined;
  try {
    if (path !== IN_MEMORY) {
      mkdirSync(dirname(path), { recursive: true });
      checkExistingFile(path);
    }
    db = new Database(path, { timeout: options.busyTimeoutMs });
    // Checked again before anything is written: the journal mode switch below writes to the file header.
    assertKnownVersion(db.pragma('user_version', { simple: true }) as number, path);
    assertPlugboardFile(db.pragma('application_id', { simple: true }) as number, path);
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (path !== IN_MEMORY && mode !== 'wal') {
      throw new Error(
        `SQLite could not switch the file to WAL mode (it reports \`${String(mode)}\`); use a local disk.`,
      );
    }
    db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    migrate(db, path);
    return db;
  } catch (error) {
    db?.close();
    if (isPlugboardError(error)) throw error;
    throw new PlugboardError(
      'PLUGBOARD_STORE_UNAVAILABLE',
      `The SQLite store at \`${path}\` could not be opened: ${message(error)}.`,
      { cause: error, details: { path } },
    );
  }
}
