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
        error: {
          code: 'PLUGBOARD_TASK_INTERRUPTED',
          message:
            'The worker stopped while the task ran (it did not finish within the 500 ms shutdown timeout).',
        },
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

  it('goes from created to started to stopped once: a second start is refused, and running tasks are counted', async () => {
    const queue = `lifecycle-${randomUUID()}`;
    const options = {
      plugins: { classes: [NapPlugin] },
      env: false as const,
      argv: [],
      connection: redis.connection,
      queue,
    };
    const never = createWorker(options);
    expect(never.state).toBe('created');
    await never.stop();
    expect(never.state).toBe('stopped');
    await expect(never.start()).rejects.toMatchObject({
      code: 'PLUGBOARD_HOST_ALREADY_STARTED',
      message: 'worker.start() was called while the worker is stopped; create a new worker to start again.',
    });

    const worker = createWorker(options);
    const starting = worker.start();
    expect(worker.state).toBe('starting');
    const report = await starting;
    expect(report.failures).toEqual([]);
    expect(worker.state).toBe('started');
    expect(worker.plugins().map((p) => [p.id, p.status])).toEqual([['nap', 'operational']]);
    await expect(worker.start()).rejects.toMatchObject({
      code: 'PLUGBOARD_HOST_ALREADY_STARTED',
      message: 'worker.start() was called while the worker is started; create a new worker to start again.',
    });
    const host = createHost({
      env: false,
      argv: [],
      plugins: { classes: [NapPlugin] },
      runtime: bullmqRuntime({ connection: redis.connection, queue }),
    });
    await host.start();
    try {
      const running = new Promise<void>((resolve) => worker.events.on('task:started', () => resolve()));
      const task = (await host.execute('nap', { ms: 400 })).tasks[0]!;
      await running;
      expect(worker.stats()).toEqual({ running: 1 });
      const stopping = worker.stop({ timeoutMs: 5000 });
      expect(worker.state).toBe('stopping');
      await stopping;
      expect(worker.state).toBe('stopped');
      expect(worker.stats()).toEqual({ running: 0 });
      expect((await host.tasks.wait(task.id)).state).toBe('succeeded');
      await worker.stop();
      expect(worker.state).toBe('stopped');
    } finally {
      await host.stop();
      await worker.stop();
    }
  });
});
