import { createHost, type Host, type TaskRecord } from '@plugboard/core';
import { postgresStore } from '@plugboard/postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { startPostgresServer } from '../../../test/postgres-server.js';
import { ChattyPlugin, DoublePlugin } from './fixtures/plugins.js';

const server = await startPostgresServer();
afterAll(() => server.remove());

const user = { id: 'alice' };

describe('the PostgreSQL server going away while the host runs', () => {
  it('gives coded PLUGBOARD_STORE_UNAVAILABLE errors, never crashes the host, and loses no task end once it is back', async () => {
    const errors: Error[] = [];
    const host: Host = createHost({
      env: false,
      argv: [],
      store: postgresStore({ connectionString: server.url, schema: 'faults', pollIntervalMs: 50 }),
      progressIntervalMs: 0,
      plugins: { classes: [ChattyPlugin, DoublePlugin] },
    });
    host.events.on('error', (error) => errors.push(error));
    await host.start();
    try {
      const before: TaskRecord[] = [];
      for (const n of [1, 2, 3]) {
        const { tasks } = await host.execute('double', { n }, { user });
        before.push(await host.tasks.wait(tasks[0]!.id));
      }
      // A task that is running when the server stops, and ends while it is down.
      const ended = new Map<string, TaskRecord>();
      host.events.on('task:finished', (record) => ended.set(record.id, record));
      const { tasks } = await host.execute('double', { n: 50, ms: 1200 }, { user });
      const running = tasks[0]!.id;
      await expect.poll(async () => (await host.tasks.get(running))?.state).toBe('running');

      await server.stop();
      await expect(host.execute('double', { n: 4 }, { user })).rejects.toMatchObject({
        code: 'PLUGBOARD_STORE_UNAVAILABLE',
      });
      await expect(host.tasks.get(before[0]!.id)).rejects.toMatchObject({
        code: 'PLUGBOARD_STORE_UNAVAILABLE',
        message: expect.stringMatching(/could not be read: .*reachable/s),
      });
      await expect.poll(() => ended.get(running)?.state, { timeout: 10_000 }).toBe('succeeded');
      expect(host.state).toBe('started');

      await server.start();
      // Reads recover, and the end written while the server was down is recorded as it happened.
      for (const record of before) expect(await host.tasks.get(record.id)).toEqual(record);
      await expect
        .poll(async () => (await host.tasks.get(running))?.state, { timeout: 15_000 })
        .toBe('succeeded');
      expect(await host.tasks.get(running)).toMatchObject({ result: { doubled: 100 } });
      const { tasks: after } = await host.execute('double', { n: 5 }, { user });
      expect(await host.tasks.wait(after[0]!.id)).toMatchObject({
        state: 'succeeded',
        result: { doubled: 10 },
      });
      expect(errors.map((e) => (e as { code?: string }).code)).toContain('PLUGBOARD_STORE_UNAVAILABLE');
    } finally {
      await host.stop({ timeoutMs: 500 });
    }
  });

  it('refuses to start with a coded error when the server cannot be reached', async () => {
    const store = postgresStore({ connectionString: 'postgres://postgres@127.0.0.1:1/postgres' });
    await expect(store.open()).rejects.toMatchObject({
      code: 'PLUGBOARD_STORE_UNAVAILABLE',
      message: expect.stringContaining('could not be opened'),
    });
  });
});
