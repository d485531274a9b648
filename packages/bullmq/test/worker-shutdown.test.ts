import { randomUUID } from 'node:crypto';
import { bullmqRuntime, createWorker } from '@plugboard/bullmq';
import { createHost, type TaskRecord } from '@plugboard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRedis } from '../../../test/requirements.js';
import { NapPlugin } from './fixtures/plugins.js';
import { startRedisServer, type TestRedisServer } from './redis-server.js';

const redisHere = hasRedis('packages/bullmq/test/worker-shutdown.test.ts');

let redis: TestRedisServer;
beforeAll(async () => {
  if (redisHere) redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

describe.skipIf(!redisHere)('worker shutdown', () => {
  it('lets running tasks finish within the timeout, records the rest interrupted, and leaves queued ones queued', async () => {
    const queue = `shutdown-${randomUUID()}`;
    const worker = createWorker({
      plugins: { classes: [NapPlugin] },
      env: false,
      argv: [],
      connection: redis.connection,
      queue,
      concurrency: 2,
    });
    await worker.start();
    const host = createHost({
      env: false,
      argv: [],
      plugins: { classes: [NapPlugin] },
      runtime: bullmqRuntime({ connection: redis.connection, queue }),
    });
    await host.start();
    try {
      const started = new Set<string>();
      host.events.on('task:started', (r: TaskRecord) => started.add(r.id));
      const quick = (await host.execute('nap', { ms: 300 })).tasks[0]!;
      const slow = (await host.execute('nap', { ms: 60_000 })).tasks[0]!;
      for (let i = 0; i < 200 && started.size < 2; i++) await new Promise((r) => setTimeout(r, 25));
      const waiting = (await host.execute('nap', { ms: 10 })).tasks[0]!;
      const begun = Date.now();
      await worker.stop({ timeoutMs: 500 });
      // The 500 ms of grace for the running tasks, then the close of the connections (about 650 ms in all here).
      const took = Date.now() - begun;
      expect(took).toBeGreaterThanOrEqual(450);
      expect(took).toBeLessThan(1500);
      expect(worker.state).toBe('stopped');
      expect((await host.tasks.wait(quick.id)).state).toBe('succeeded');
      expect(await host.tasks.wait(slow.id)).toMatchObject({
        state: 'interrupted',
        error: { code: 'PLUGBOARD_TASK_INTERRUPTED' },
      });
      expect((await host.tasks.get(waiting.id))?.state).toBe('queued');

      // Another worker picks up what was left queued.
      const next = createWorker({
        plugins: { classes: [NapPlugin] },
        env: false,
        argv: [],
        connection: redis.connection,
        queue,
      });
      await next.start();
      expect((await host.tasks.wait(waiting.id)).state).toBe('succeeded');
      await next.stop();
    } finally {
      await host.stop();
      await worker.stop();
    }
  });
});
