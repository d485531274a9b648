/**
 * The library's own SQLite database (the catalogue): books, the media index and the history of index runs.
 * It is a file of its own beside Plugboard's task store. The host and tasks each open their own connection;
 * WAL mode lets them read while another writes.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/** An open catalogue connection. */
export type Catalogue = Database.Database;

/** A book row. */
export interface BookRow {
  readonly id: string;
  readonly title: string;
  readonly author: string;
  readonly year: number | null;
  /** The book's folder name inside the book storage path. */
  readonly folder: string;
  readonly added_at: number;
}

/** A row of the media index: one file of a media root. */
export interface MediaIndexRow {
  /** The media file id, `<root>/<relative path>`. */
  readonly id: string;
  readonly root: string;
  readonly size: number;
  readonly mtime_ms: number;
  readonly sha256: string;
  readonly indexed_at: number;
}

/** A finished index run. */
export interface IndexRunRow {
  readonly id: number;
  readonly started_at: number;
  readonly finished_at: number;
  readonly files: number;
  readonly added: number;
  readonly updated: number;
  readonly removed: number;
  readonly bytes: number;
}

const SCHEMA_VERSION = 1;

const SCHEMA = `
  CREATE TABLE books (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    author TEXT NOT NULL,
    year INTEGER,
    folder TEXT NOT NULL UNIQUE,
    added_at INTEGER NOT NULL
  );
  CREATE TABLE media_index (
    id TEXT PRIMARY KEY,
    root TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ms INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    indexed_at INTEGER NOT NULL
  );
  CREATE TABLE index_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    files INTEGER NOT NULL,
    added INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    removed INTEGER NOT NULL,
    bytes INTEGER NOT NULL
  );
  CREATE TABLE library_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
`;

/** Opens (and on first use creates) the catalogue at `file`. */
export function openCatalogue(file: string): Catalogue {
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    db.close();
    throw new Error(
      `The catalogue ${file} has schema version ${version}, newer than this server's ${SCHEMA_VERSION}: run a newer media server or move the file away.`,
    );
  }
  if (version < SCHEMA_VERSION) {
    db.transaction(() => {
      db.exec(SCHEMA);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    })();
  }
  return db;
}

/** A value of the `library_meta` table. */
export function readMeta(db: Catalogue, key: string): string | undefined {
  const row = db.prepare('SELECT value FROM library_meta WHERE key = ?').get(key) as
    | { value: string }
    | undefined;
  return row?.value;
}

/** Sets a value of the `library_meta` table. */
export function writeMeta(db: Catalogue, key: string, value: string): void {
  db.prepare(
    'INSERT INTO library_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
  ).run(key, value);
}
