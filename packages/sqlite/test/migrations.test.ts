import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHost, isPlugboardError } from '@plugboard/core';
import { migrations, SCHEMA_VERSION, sqliteStore } from '@plugboard/sqlite';
import { taskRecord } from '@plugboard/testing/contracts';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDatabaseFolder } from './temp-db.js';

const folder = tempDatabaseFolder('plugboard-migrations-');
afterAll(() => folder.remove());

function inspect(path: string) {
  const db = new Database(path, { readonly: true });
  try {
    return {
      version: db.pragma('user_version', { simple: true }),
      journal: db.pragma('journal_mode', { simple: true }),
      objects: (
        db.prepare("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").all() as {
          type: string;
          name: string;
        }[]
      ).map((o) => `${o.type} ${o.name}`),
    };
  } finally {
    db.close();
  }
}

/** A database as a newer Plugboard would leave it: a schema version this build does not know. */
function newerDatabase(path: string, journal: 'delete' | 'wal'): void {
  const db = new Database(path);
  db.pragma(`journal_mode = ${journal}`);
  db.exec('CREATE TABLE tasks (id TEXT PRIMARY KEY, shape_from_the_future BLOB)');
  db.prepare('INSERT INTO tasks VALUES (?, ?)').run('a', Buffer.from('keep me'));
  db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  db.close();
}

describe('opening and migrating the SQLite file', () => {
  it('a fresh file gets the current schema, in WAL mode, with the listing indexes', async () => {
    const path = folder.file();
    const store = sqliteStore({ path });
    await store.open();
    await store.close();
    const { version, journal, objects } = inspect(path);
    expect(version).toBe(SCHEMA_VERSION);
    expect(journal).toBe('wal');
    expect(objects).toEqual(
      expect.arrayContaining([
        'table tasks',
        'table task_logs',
        'table schedules',
        'table plugins',
        'index tasks_by_user',
        'index tasks_by_plugin',
        'index tasks_by_state',
      ]),
    );
  });

  it('a missing folder on the path is created', async () => {
    const path = `${folder.dir}/nested/deeper/store.db`;
    const store = sqliteStore({ path });
    await store.open();
    await store.close();
    expect(inspect(path).version).toBe(SCHEMA_VERSION);
  });

  it('re-opening a file at the current version keeps its data and its schema as they were', async () => {
    const path = folder.file();
    const record = taskRecord();
    const first = sqliteStore({ path });
    await first.open();
    await first.insertTask(record);
    await first.close();
    const schema = inspect(path);

    const second = sqliteStore({ path });
    await second.open();
    expect(await second.getTask(record.id)).toEqual(record);
    await second.close();
    expect(inspect(path)).toEqual(schema);
  });

  for (const journal of ['delete', 'wal'] as const) {
    it(`a file from a newer schema (${journal} journal) is refused with PLUGBOARD_STORE_NEWER_VERSION and left byte for byte as it was`, async () => {
      const path = folder.file();
      newerDatabase(path, journal);
      const bytes = readFileSync(path);
      const store = sqliteStore({ path });
      await expect(store.open()).rejects.toMatchObject({
        code: 'PLUGBOARD_STORE_NEWER_VERSION',
        message: expect.stringContaining(`schema version ${SCHEMA_VERSION + 1}`),
        details: { version: SCHEMA_VERSION + 1, supported: SCHEMA_VERSION },
      });
      expect(readFileSync(path).equals(bytes)).toBe(true);
      expect(store.isOpen).toBe(false);
      await expect(store.getTask('a')).rejects.toMatchObject({ code: 'PLUGBOARD_STORE_UNAVAILABLE' });
    });
  }

  it('host.start() on a file from a newer schema fails with the version error and leaves the file alone', async () => {
    const path = folder.file();
    newerDatabase(path, 'wal');
    const bytes = readFileSync(path);
    const host = createHost({ env: false, argv: [], store: sqliteStore({ path }) });
    const error = await host.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    // host.start() wraps every open failure in PLUGBOARD_STORE_UNAVAILABLE; the version error is kept as cause.
    const codes = [error, (error as Error).cause].filter((e) => isPlugboardError(e)).map((e) => e.code);
    expect(codes).toContain('PLUGBOARD_STORE_NEWER_VERSION');
    expect(host.state).toBe('created');
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  it('a file that is not a database fails with PLUGBOARD_STORE_UNAVAILABLE, SQLite’s error as cause', async () => {
    const path = folder.file();
    writeFileSync(path, 'this is a text file, not a database '.repeat(200));
    const bytes = readFileSync(path);
    const error = await sqliteStore({ path })
      .open()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toMatchObject({
      code: 'PLUGBOARD_STORE_UNAVAILABLE',
      message: expect.stringContaining(path),
      cause: expect.objectContaining({ code: 'SQLITE_NOTADB' }),
    });
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  it('a path that is a folder fails with PLUGBOARD_STORE_UNAVAILABLE', async () => {
    const path = `${folder.dir}/a-folder.db`;
    mkdirSync(path);
    await expect(sqliteStore({ path }).open()).rejects.toMatchObject({
      code: 'PLUGBOARD_STORE_UNAVAILABLE',
      cause: expect.any(Error),
    });
  });

  it('another application’s SQLite database is refused, not migrated', async () => {
    const path = folder.file();
    const db = new Database(path);
    db.exec('CREATE TABLE invoices (id INTEGER PRIMARY KEY)');
    db.pragma('application_id = 1234');
    db.close();
    const bytes = readFileSync(path);
    await expect(sqliteStore({ path }).open()).rejects.toMatchObject({
      code: 'PLUGBOARD_STORE_UNAVAILABLE',
      message: expect.stringContaining('another application'),
    });
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  it('a file of schema version 1 gains the parent and waiting-reason columns, its tasks kept', async () => {
    const path = folder.file();
    const db = new Database(path);
    db.exec(migrations[0]!.sql);
    db.pragma('application_id = 0x50425244');
    db.pragma('user_version = 1');
    db.prepare(
      `INSERT INTO tasks (id, plugin_id, task_type, user_id, state, input, user, progress, created_at, attempt,
         max_attempts, priority, log_count) VALUES ('old1', 'greet', 'greet/GreetTask', 'ann', 'succeeded', '{}',
         '{"id":"ann"}', 100, 1, 1, 1, 0, 0)`,
    ).run();
    db.close();

    const store = sqliteStore({ path });
    await store.open();
    const old = await store.getTask('old1');
    expect(old).toMatchObject({ id: 'old1', state: 'succeeded', user: { id: 'ann' } });
    expect(old?.parentId).toBeUndefined();
    const child = taskRecord({ parentId: 'old1', waitingReason: 'waiting for a slot of plugin greet' });
    await store.insertTask(child);
    expect(await store.getTask(child.id)).toEqual(child);
    expect((await store.listTasks({ parent: 'old1' })).items.map((r) => r.id)).toEqual([child.id]);
    await store.close();
    expect(inspect(path).version).toBe(SCHEMA_VERSION);
    expect(inspect(path).objects).toContain('index tasks_by_parent');
  });
});
