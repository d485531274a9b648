import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { bullmqRuntime, createWorker } from '@plugboard/bullmq';
import { createHost } from '@plugboard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type TestRedisServer } from './redis-server.js';

const pluginsDir = fileURLToPath(new URL('./fixtures/isolated', import.meta.url));
let redis: TestRedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

describe('isolated tasks on a BullMQ worker', () => {
  it('runs tasks in worker threads and ends a spinning one at its timeout, then keeps working', async () => {
    const queue = `isolated-${randomUUID()}`;
    const worker = createWorker({
      plugins: { dirs: [pluginsDir] },
      env: false,
      argv: [],
      connection: redis.connection,
      queue,
      isolation: { mode: 'thread', graceMs: 200 },
    });
    const report = await worker.start();
    const host = createHost({
      env: false,
      argv: [],
      plugins: { dirs: [pluginsDir] },
      runtime: bullmqRuntime({ connection: redis.connection, queue }),
    });
    await host.start();
    try {
      expect(report.plugins.map((p) => [p.id, p.isolation?.mode])).toEqual([
        ['spin', 'thread'],
        ['where', 'thread'],
      ]);
      const spin = (await host.execute('spin', {}, { timeoutMs: 500 })).tasks[0]!;
      const spun = await host.tasks.wait(spin.id);
      expect(spun).toMatchObject({ state: 'timed-out', error: { code: 'PLUGBOARD_TASK_TIMED_OUT' } });
      expect(spun.finishedAt! - spun.startedAt!).toBeLessThan(1500);
      const where = (await host.execute('where', {})).tasks[0]!;
      expect(await host.tasks.wait(where.id)).toMatchObject({
        state: 'succeeded',
        result: { isMainThread: false },
      });
    } finally {
      await host.stop({ timeoutMs: 100 });
      await worker.stop({ timeoutMs: 100 });
    }
  });
});
