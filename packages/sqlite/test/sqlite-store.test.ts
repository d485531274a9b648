import { createHost, type TaskRecord } from '@plugboard/core';
import { type SqliteStoreOptions, type SqliteTaskStore, sqliteStore } from '@plugboard/sqlite';
import { taskRecord } from '@plugboard/testing/contracts';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DoublePlugin } from './fixtures/crash-plugins.js';
import { tempDatabaseFolder } from './temp-db.js';

const folder = tempDatabaseFolder('plugboard-store-');
afterAll(() => folder.remove());

const stores: SqliteTaskStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

async function opened(options: Partial<SqliteStoreOptions> = {}): Promise<SqliteTaskStore> {
  const store = sqliteStore({ path: folder.file(), ...options });
  stores.push(store);
  await store.open();
  return store;
}

async function reopened(store: SqliteTaskStore): Promise<SqliteTaskStore> {
  await store.close();
  return opened({ path: store.path });
}

describe('sqliteStore options', () => {
  it.each([
    [{ path: 3 }, 'Expected `path` to be a non-empty string, got `3` (number).'],
    [{ path: '  ' }, 'Expected `path` to be a non-empty string, got `"  "` (string).'],
    [
      { path: 'a.db', busyTimeoutMs: -1 },
      'Expected `busyTimeoutMs` to be an integer >= 0, got `-1` (number).',
    ],
    [
      { path: 'a.db', synchronous: 'sometimes' },
      "Expected `synchronous` to be 'normal' or 'full', got `\"sometimes\"` (string).",
    ],
    [
      { path: 'a.db', maxFinishedTasks: 0 },
      'Expected `maxFinishedTasks` to be an integer >= 1, got `0` (number).',
    ],
    [
      { path: 'a.db', now: 5 },
      'Expected `now` to be a function returning ms since the epoch, got `5` (number).',
    ],
  ])('rejects %j when the store is built', (options, message) => {
    expect(() => sqliteStore(options as unknown as SqliteStoreOptions)).toThrow(
      expect.objectContaining({ code: 'PLUGBOARD_INVALID_OPTION', message }),
    );
  });

  it('opens nothing until open() is called, and says how to open it', async () => {
    const store = sqliteStore({ path: folder.file() });
    await expect(store.getTask('x')).rejects.toMatchObject({
      code: 'PLUGBOARD_STORE_UNAVAILABLE',
      message: expect.stringContaining('host.start() opens it'),
    });
    await expect(store.insertTask(taskRecord())).rejects.toMatchObject({
      code: 'PLUGBOARD_STORE_UNAVAILABLE',
    });
  });
});

describe('SqliteTaskStore writes', () => {
  it('close() commits writes that were never awaited', async () => {
    const store = await opened();
    const record = taskRecord();
    void store.insertTask(record);
    void store.appendLogs(record.id, [{ seq: 1, time: 1, level: 'info', message: 'kept' }]);
    void store.updateTask(record.id, { state: 'running', progress: 30 });
    const again = await reopened(store);
    expect(await again.getTask(record.id)).toMatchObject({ state: 'running', progress: 30, logCount: 1 });
    expect(await again.getLogs(record.id)).toHaveLength(1);
  });

  it('updates of one task waiting for the same commit are merged, later values winning', async () => {
    const store = await opened();
    const record = taskRecord();
    await store.insertTask(record);
    const writes = [
      store.updateTask(record.id, { state: 'running', startedAt: 5, progress: 10, statusText: 'first' }),
      store.updateTask(record.id, { progress: 60 }),
      store.updateTask(record.id, { state: 'succeeded', finishedAt: 9, result: { ok: true } }),
    ];
    await Promise.all(writes);
    expect(await store.getTask(record.id)).toMatchObject({
      state: 'succeeded',
      startedAt: 5,
      finishedAt: 9,
      progress: 60,
      statusText: 'first',
      result: { ok: true },
    });
    // A later update starts a new write.
    await store.updateTask(record.id, { statusText: 'after' });
    expect((await store.getTask(record.id))?.statusText).toBe('after');
  });

  it('appending log lines advances the record’s logCount in the same commit, so recovery never reuses a seq', async () => {
    const store = await opened();
    const record = taskRecord();
    await store.insertTask(record);
    await store.appendLogs(record.id, [
      { seq: 1, time: 1, level: 'info', message: 'one' },
      { seq: 2, time: 2, level: 'info', message: 'two' },
    ]);
    expect((await store.getTask(record.id))?.logCount).toBe(2);
    // The runtime's own logCount update can arrive after a later batch of lines: it must not move the count back.
    await store.appendLogs(record.id, [{ seq: 3, time: 3, level: 'info', message: 'three' }]);
    await store.updateTask(record.id, { logCount: 2 });
    expect((await store.getTask(record.id))?.logCount).toBe(3);
  });

  it('a line whose seq is already stored is not written twice', async () => {
    const store = await opened();
    const record = taskRecord();
    await store.insertTask(record);
    await store.appendLogs(record.id, [{ seq: 1, time: 1, level: 'info', message: 'first' }]);
    await store.appendLogs(record.id, [{ seq: 1, time: 2, level: 'info', message: 'replayed' }]);
    expect((await store.getLogs(record.id)).map((l) => l.message)).toEqual(['first']);
  });

  it('a write that fails is rejected on its own; the writes batched with it are committed', async () => {
    const store = await opened({ maxFinishedTasks: 2 });
    const [a, b, c] = [
      taskRecord({ state: 'succeeded', finishedAt: 1 }),
      taskRecord({ state: 'succeeded', finishedAt: 2 }),
      taskRecord({ state: 'succeeded', finishedAt: 3 }),
    ];
    const broken = { ...taskRecord(), pluginId: null } as unknown as TaskRecord;
    const writes = [store.insertTask(a), store.insertTask(broken), store.insertTask(b)];
    const outcomes = await Promise.allSettled(writes);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({
      code: 'PLUGBOARD_STORE_UNAVAILABLE',
      cause: expect.objectContaining({ code: 'SQLITE_CONSTRAINT_NOTNULL' }),
    });
    expect(await store.getTask(broken.id)).toBeUndefined();
    // Retention still counts exactly a and b as finished: the third evicts a, not b.
    await store.insertTask(c);
    expect(await store.getTask(a.id)).toBeUndefined();
    expect(await store.getTask(b.id)).toBeDefined();
    expect(await store.getTask(c.id)).toBeDefined();
  });

  it('a value that is not JSON-serialisable is refused before it is queued', async () => {
    const store = await opened();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const record = taskRecord();
    await expect(store.insertTask({ ...record, input: cyclic })).rejects.toThrow(TypeError);
    await store.insertTask(record);
    await expect(store.updateTask(record.id, { result: cyclic })).rejects.toThrow(TypeError);
    expect(await store.getTask(record.id)).toEqual(record);
  });

  it('retention limits hold across a restart', async () => {
    const store = await opened({ maxFinishedTasks: 2 });
    const records = [1, 2, 3].map((n) => taskRecord({ state: 'succeeded', finishedAt: n }));
    for (const record of records.slice(0, 2)) await store.insertTask(record);
    await store.close();
    const again = await opened({ path: store.path, maxFinishedTasks: 2 });
    await again.insertTask(records[2]!);
    expect((await again.listTasks({})).items.map((r) => r.id)).toEqual([records[2]!.id, records[1]!.id]);
  });

  it('backup() writes a consistent copy while the store is in use, including writes not yet awaited', async () => {
    const store = await opened();
    const records = Array.from({ length: 50 }, () => taskRecord());
    for (const record of records) void store.insertTask(record);
    const destination = folder.file('backup');
    await store.backup(destination);
    const copy = await opened({ path: destination });
    expect((await copy.listTasks({ limit: 100 })).items).toHaveLength(50);
  });
});

describe('SqliteTaskStore under a running host', () => {
  it('keeps up with the in-process runtime: every record and log line of a busy host is stored', async () => {
    const path = folder.file('busy');
    const host = createHost({
      env: false,
      argv: [],
      concurrency: 32,
      progressIntervalMs: 0,
      store: sqliteStore({ path }),
      plugins: { classes: [DoublePlugin] },
    });
    await host.start();
    const ids: string[] = [];
    await Promise.all(
      Array.from({ length: 400 }, async (_, n) => {
        const { tasks } = await host.execute('double', { n });
        ids.push(tasks[0]!.id);
      }),
    );
    const done = await Promise.all(ids.map((id) => host.tasks.wait(id)));
    expect(done.every((t) => t.state === 'succeeded')).toBe(true);
    await host.stop();

    const store = await opened({ path });
    const all: TaskRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listTasks({ limit: 500, cursor });
      all.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(all).toHaveLength(400);
    for (const record of all) {
      const n = (record.input as { n: number }).n;
      expect(record).toMatchObject({ state: 'succeeded', result: { doubled: n * 2 }, logCount: 1 });
      expect(await store.getLogs(record.id)).toEqual([
        expect.objectContaining({ seq: 1, message: `doubling ${n}` }),
      ]);
    }
  });
});
