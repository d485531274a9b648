import { createHost } from '@plugboard/core';
import {
  migrations,
  type PostgresStoreOptions,
  type PostgresTaskStore,
  postgresStore,
  SCHEMA_VERSION,
} from '@plugboard/postgres';
import { taskRecord } from '@plugboard/testing/contracts';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startPostgresServer } from '../../../test/postgres-server.js';
import { DoublePlugin } from './fixtures/plugins.js';

const server = await startPostgresServer();
afterAll(() => server.remove());

let schemas = 0;
const stores: PostgresTaskStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

async function opened(options: Partial<PostgresStoreOptions> = {}): Promise<PostgresTaskStore> {
  const store = postgresStore({ connectionString: server.url, schema: `store_${++schemas}`, ...options });
  stores.push(store);
  await store.open();
  return store;
}

describe('postgresStore options', () => {
  it.each([
    [
      {},
      'Expected `connectionString` to be a string when no `pool` is given (give one of the two), got `undefined` (undefined).',
    ],
    [{ connectionString: '' }, 'Expected `connectionString` to be a non-empty string, got `""` (string).'],
    [{ pool: {} }, 'Expected `pool` to be a pg Pool, got `{}` (object).'],
    [
      { connectionString: 'postgres://x', schema: 'Bad-Name' },
      'Expected `schema` to be a lower-case SQL identifier (letters, digits, `_`), got `"Bad-Name"` (string).',
    ],
    [
      { connectionString: 'postgres://x', maxFinishedTasks: 0 },
      'Expected `maxFinishedTasks` to be an integer >= 1, got `0` (number).',
    ],
    [
      { connectionString: 'postgres://x', pollIntervalMs: 1 },
      'Expected `pollIntervalMs` to be an integer >= 10, got `1` (number).',
    ],
  ])('rejects %j when the store is built', (options, message) => {
    expect(() => postgresStore(options as unknown as PostgresStoreOptions)).toThrow(
      expect.objectContaining({ code: 'PLUGBOARD_INVALID_OPTION', message }),
    );
  });

  it('opens nothing until open() is called, and says how to open it', async () => {
    const store = postgresStore({ connectionString: server.url });
    await expect(store.getTask('x')).rejects.toMatchObject({
      code: 'PLUGBOARD_STORE_UNAVAILABLE',
      message: expect.stringContaining('host.start() opens it'),
    });
    await expect(store.insertTask(taskRecord())).rejects.toMatchObject({
      code: 'PLUGBOARD_STORE_UNAVAILABLE',
    });
  });
});

describe('PostgresTaskStore', () => {
  it('works on a pool the host passes in, and leaves it open on close()', async () => {
    const pool = new pg.Pool({ connectionString: server.url, max: 3 });
    try {
      const store = postgresStore({ pool, schema: `store_${++schemas}` });
      await store.open();
      const record = taskRecord();
      await store.insertTask(record);
      expect(await store.getTask(record.id)).toEqual(record);
      await store.close();
      const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${store.schema}.tasks`);
      expect(rows[0]).toEqual({ n: 1 });
    } finally {
      await pool.end();
    }
  });

  it('keeps history across a restart of the host', async () => {
    const schema = `store_${++schemas}`;
    const start = async () => {
      const host = createHost({
        env: false,
        argv: [],
        store: postgresStore({ connectionString: server.url, schema }),
        plugins: { classes: [DoublePlugin] },
      });
      await host.start();
      return host;
    };
    const first = await start();
    const { tasks } = await first.execute('double', { n: 4 }, { user: { id: 'alice' } });
    const done = await first.tasks.wait(tasks[0]!.id);
    await first.stop();
    const second = await start();
    try {
      expect(await second.tasks.get(done.id)).toEqual(done);
      expect((await second.tasks.logs(done.id)).map((l) => l.message)).toEqual(['doubling 4']);
      expect((await second.plugins.list()).map((p) => p.id)).toContain('double');
    } finally {
      await second.stop();
    }
  });

  it('commits updates of one task made in the same turn as one write, later values winning', async () => {
    const store = await opened();
    const record = taskRecord();
    await store.insertTask(record);
    const writes = [
      store.updateTask(record.id, { state: 'running', progress: 10 }),
      store.updateTask(record.id, { progress: 60, statusText: 'busy' }),
      store.updateTask(record.id, { state: 'succeeded', finishedAt: 5, logCount: 3 }),
      store.updateTask(record.id, { logCount: 1 }),
    ];
    await Promise.all(writes);
    expect(await store.getTask(record.id)).toMatchObject({
      state: 'succeeded',
      progress: 60,
      statusText: 'busy',
      finishedAt: 5,
      logCount: 3,
    });
  });

  it('stores NUL characters in log lines as U+FFFD instead of failing the write', async () => {
    const store = await opened();
    const record = taskRecord();
    await store.insertTask(record);
    await store.appendLogs(record.id, [{ seq: 1, time: 1, level: 'info', message: 'a\u0000b' }]);
    expect((await store.getLogs(record.id))[0]?.message).toBe('a\uFFFDb');
  });
});

describe('migrations', () => {
  it('creates the schema once, records each step, and a second store on it migrates nothing', async () => {
    const first = await opened({ schema: 'migrated' });
    await first.insertTask(taskRecord());
    const second = await opened({ schema: 'migrated' });
    expect((await second.listTasks({})).items).toHaveLength(1);
    const client = new pg.Client(server.url);
    await client.connect();
    try {
      const { rows } = await client.query(
        'SELECT version, description FROM migrated.migrations ORDER BY version',
      );
      expect(rows).toEqual(migrations.map((m) => ({ version: m.version, description: m.description })));
      expect(rows.at(-1)?.version).toBe(SCHEMA_VERSION);
    } finally {
      await client.end();
    }
  });

  it('refuses a schema written by a newer version, changing nothing', async () => {
    await opened({ schema: 'newer' });
    const client = new pg.Client(server.url);
    await client.connect();
    try {
      await client.query(
        `INSERT INTO newer.migrations (version, description) VALUES ($1, 'from the future')`,
        [SCHEMA_VERSION + 1],
      );
      const store = postgresStore({ connectionString: server.url, schema: 'newer' });
      await expect(store.open()).rejects.toMatchObject({
        code: 'PLUGBOARD_STORE_NEWER_VERSION',
        details: { schema: 'newer', version: SCHEMA_VERSION + 1, supported: SCHEMA_VERSION },
      });
      const { rows } = await client.query('SELECT count(*)::int AS n FROM newer.migrations');
      expect(rows[0]).toEqual({ n: SCHEMA_VERSION + 1 });
    } finally {
      await client.end();
    }
  });
});

describe('schema version 2', () => {
  it('upgrades a version 1 schema, keeping its tasks and schedules', async () => {
    const client = new pg.Client(server.url);
    await client.connect();
    try {
      await client.query('CREATE SCHEMA upgraded');
      await client.query(
        'CREATE TABLE upgraded.migrations (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
      );
      await client.query(migrations[0]!.sql('upgraded'));
      await client.query(`INSERT INTO upgraded.migrations (version, description) VALUES (1, 'v1')`);
      await client.query(
        `INSERT INTO upgraded.schedules (id, plugin_id, delay_seconds, repeat_seconds, next_run_at, last_run_at,
           last_task_ids, last_state, runs, created_at, updated_at)
         VALUES ('nightly', 'nightly', 0, 60, 5, NULL, '[]', NULL, 0, 1, 1)`,
      );
    } finally {
      await client.end();
    }
    const store = await opened({ schema: 'upgraded' });
    expect(await store.getSchedule('nightly')).toEqual({
      id: 'nightly',
      pluginId: 'nightly',
      delaySeconds: 0,
      repeatSeconds: 60,
      nextRunAt: 5,
      lastRunAt: null,
      lastTaskIds: [],
      lastState: null,
      runs: 0,
      createdAt: 1,
      updatedAt: 1,
    });
    const child = taskRecord({ parentId: 'parent-1', waitingReason: 'waiting for a slot of plugin greet' });
    await store.insertTask(child);
    expect(await store.getTask(child.id)).toEqual(child);
  });

  it('counts tasks per state, by user and plugin', async () => {
    const store = await opened();
    await store.insertTask(taskRecord({ state: 'queued' }));
    await store.insertTask(taskRecord({ state: 'succeeded', finishedAt: 1 }));
    await store.insertTask(taskRecord({ state: 'succeeded', finishedAt: 1, user: { id: 'bob' } }));
    const all = await store.countTasks({});
    expect(all).toMatchObject({ queued: 1, succeeded: 2, running: 0, failed: 0 });
    expect(await store.countTasks({ user: 'alice' })).toMatchObject({ queued: 1, succeeded: 1 });
    expect(await store.countTasks({ plugin: 'nobody' })).toMatchObject({ queued: 0, succeeded: 0 });
  });

  it('lets exactly one of many processes claim an idempotency key at once', async () => {
    const schema = `store_${++schemas}`;
    const many = await Promise.all(Array.from({ length: 4 }, () => opened({ schema })));
    const claims = many.flatMap((store, i) =>
      Array.from({ length: 5 }, (_, j) =>
        store.claimIdempotencyKey(
          {
            key: '5:alice:order-1',
            claimId: `claim-${i}-${j}`,
            pluginId: 'greet',
            fingerprint: 'fp',
            taskIds: null,
            createdAt: 1000,
            expiresAt: 10_000,
          },
          0,
        ),
      ),
    );
    const held = await Promise.all(claims);
    expect(new Set(held.map((h) => h.claimId)).size).toBe(1);
    const winner = held[0]!;
    await many[1]!.settleIdempotencyKey(winner.key, winner.claimId, ['t1']);
    const again = await many[2]!.claimIdempotencyKey(
      { ...winner, claimId: 'late', taskIds: null, createdAt: 2000 },
      0,
    );
    expect(again).toEqual({ ...winner, taskIds: ['t1'] });
  });
});

describe('cron schedules kept in the database', () => {
  it('fire once per due time across the processes, at the times of the expression', async () => {
    const schema = `store_${++schemas}`;
    const many = await Promise.all(Array.from({ length: 3 }, () => opened({ schema, pollIntervalMs: 20 })));
    const fired: number[] = [];
    for (const store of many) {
      await store.shared.connect({
        events: undefined as never,
        relayEvents: false,
        cancel: async () => false,
        fireSchedule: async (_id, dueAt) => {
          fired.push(dueAt);
          return undefined as never;
        },
        reportError: (error) => {
          throw error;
        },
      });
    }
    const firstRunAt = Math.ceil(Date.now() / 1000) * 1000;
    const states = [];
    for (const store of many) {
      states.push(
        await store.shared.schedules.arm({
          id: 'tick',
          pluginId: 'tick',
          delaySeconds: 0,
          repeatSeconds: 0,
          cron: '* * * * * *',
          timeZone: 'Europe/Berlin',
          replaceExisting: false,
          firstRunAt,
        }),
      );
    }
    for (const state of states) {
      expect(state).toEqual({
        delaySeconds: 0,
        repeatSeconds: 0,
        cron: '* * * * * *',
        timeZone: 'Europe/Berlin',
        nextRunAt: firstRunAt,
      });
    }
    await expect.poll(() => fired.length, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
    const sorted = [...fired].sort((a, b) => a - b);
    expect(new Set(sorted).size).toBe(sorted.length);
    expect(sorted[0]).toBe(firstRunAt);
    for (const due of sorted) expect(due % 1000).toBe(0);
  });
});
