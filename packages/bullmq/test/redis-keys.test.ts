import { randomUUID } from 'node:crypto';
import { bullmqRuntime, createWorker } from '@plugboard/bullmq';
import { ActionPlugin, createHost, Task, type TaskContext, TaskError, Type } from '@plugboard/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRedis } from '../../../test/requirements.js';
import { startRedisServer, type TestRedisServer } from './redis-server.js';

const redisHere = hasRedis('packages/bullmq/test/redis-keys.test.ts');

let redis: TestRedisServer;
beforeAll(async () => {
  if (redisHere) redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

class Quick extends Task<{ n: number }> {
  async run() {
    return { n: this.input.n };
  }
}

/** Fails its first attempt, succeeds on the second. */
class Flaky extends Task<Record<string, never>> {
  static override retry = { attempts: 2, backoff: { type: 'fixed' as const, delayMs: 50 } };
  async run(ctx: TaskContext) {
    if (ctx.attempt === 1) throw new TaskError('first attempt fails');
    return { attempt: ctx.attempt };
  }
}

class Nap extends Task<Record<string, never>> {
  async run(ctx: TaskContext) {
    ctx.log.info('napping');
    await new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, 30_000);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(ctx.signal.reason);
      });
    });
  }
}

class Mixed extends ActionPlugin({
  id: 'mixed',
  name: 'Mixed',
  args: Type.Object({}),
  tasks: [Quick, Flaky, Nap],
}) {
  createTasks() {
    return [...Array.from({ length: 20 }, (_, n) => new Quick({ n })), new Flaky({}), new Nap({})];
  }
}

describe.skipIf(!redisHere)('what workers keep in Redis for running tasks', () => {
  it('is gone once every task has finished: retried, cancelled or succeeded', async () => {
    const queue = `keys-${randomUUID()}`;
    const worker = createWorker({
      plugins: { classes: [Mixed] },
      env: false,
      argv: [],
      connection: redis.connection,
      queue,
      concurrency: 4,
    });
    await worker.start();
    const host = createHost({
      env: false,
      argv: [],
      plugins: { classes: [Mixed] },
      runtime: bullmqRuntime({ connection: redis.connection, queue }),
    });
    await host.start();
    const client = new Redis(redis.connection);
    try {
      const started = new Promise<void>((resolve) =>
        host.events.on('task:log', (event) => {
          if (event.entry.message === 'napping') resolve();
        }),
      );
      const { tasks } = await host.execute('mixed', {});
      const nap = tasks.at(-1)!;
      await started;
      await host.tasks.cancel(nap.id);
      const records = await Promise.all(tasks.map((task) => host.tasks.wait(task.id)));
      expect(records.filter((r) => r.state === 'succeeded')).toHaveLength(21);
      expect(records.find((r) => r.taskType.endsWith('Flaky'))).toMatchObject({ attempt: 2 });
      expect(records.at(-1)).toMatchObject({ state: 'cancelled' });
      // The outcome updates (which clear the keys) go out with the worker's next batch.
      await worker.stop({ timeoutMs: 1000 });
      const base = `bull:${queue}:plugboard`;
      expect(await client.hlen(`${base}:started`)).toBe(0);
      expect(await client.hlen(`${base}:log-seq`)).toBe(0);
      expect(await client.keys(`${base}:cancel:*`)).toEqual([]);
    } finally {
      client.disconnect();
      await host.stop({ timeoutMs: 500 });
      await worker.stop({ timeoutMs: 500 });
    }
  }, 30_000);
});

describe.skipIf(!redisHere)('a cancel request left in Redis', () => {
  it('makes the worker that takes the task record it cancelled without running it', async () => {
    const queue = `flag-${randomUUID()}`;
    const host = createHost({
      env: false,
      argv: [],
      plugins: { classes: [Mixed] },
      runtime: bullmqRuntime({ connection: redis.connection, queue }),
    });
    await host.start();
    const client = new Redis(redis.connection);
    const worker = createWorker({
      plugins: { classes: [Mixed] },
      env: false,
      argv: [],
      connection: redis.connection,
      queue,
    });
    try {
      const started: string[] = [];
      host.events.on('task:started', (record) => started.push(record.id));
      const { tasks } = await host.execute('mixed', {});
      // What a cancel leaves for a task a worker has taken: the flag is set just before this worker starts it.
      const quick = tasks[0]!;
      await client.set(`bull:${queue}:plugboard:cancel:${quick.id}`, '1');
      await worker.start();
      expect(await host.tasks.wait(quick.id)).toMatchObject({
        state: 'cancelled',
        startedAt: null,
        error: { code: 'PLUGBOARD_TASK_CANCELLED', message: 'The task was cancelled before it ran.' },
      });
      // The others run as usual.
      const others = await Promise.all(tasks.slice(1, -1).map((task) => host.tasks.wait(task.id)));
      expect(others.map((r) => r.state)).toEqual(others.map(() => 'succeeded'));
      expect(started).not.toContain(quick.id);
      expect((await host.tasks.cancel(tasks.at(-1)!.id)).state).toBe('cancelled');
    } finally {
      client.disconnect();
      await host.stop({ timeoutMs: 500 });
      await worker.stop({ timeoutMs: 500 });
    }
  }, 30_000);
});

class Fragile extends Task<Record<string, never>> {
  static override retrySafe = false;
  async run() {
    return { ran: true };
  }
}

class Safe extends Task<Record<string, never>> {
  static override retrySafe = true;
  async run(ctx: TaskContext) {
    ctx.log.info('ran again');
    return { attempt: ctx.attempt };
  }
}

class Stalled extends ActionPlugin({
  id: 'stalled',
  name: 'Stalled',
  args: Type.Object({}),
  tasks: [Safe, Fragile],
}) {
  createTasks() {
    return [new Safe({}), new Fragile({})];
  }
}

describe.skipIf(!redisHere)('a start mark left in Redis by a worker that died', () => {
  it('makes the next worker run a retry-safe task again as a new attempt and record the others interrupted', async () => {
    const queue = `stalled-${randomUUID()}`;
    const host = createHost({
      env: false,
      argv: [],
      plugins: { classes: [Stalled] },
      runtime: bullmqRuntime({ connection: redis.connection, queue }),
    });
    await host.start();
    const client = new Redis(redis.connection);
    const worker = createWorker({
      plugins: { classes: [Stalled] },
      env: false,
      argv: [],
      connection: redis.connection,
      queue,
    });
    try {
      const { tasks } = await host.execute('stalled', {});
      const [safe, fragile] = tasks;
      // What a worker that started both tasks and died leaves: the start marks, and the numbers of the logs it sent.
      for (const task of tasks) {
        await client.hset(`bull:${queue}:plugboard:started`, task.id, '1');
        await client.hset(`bull:${queue}:plugboard:log-seq`, task.id, '4');
      }
      await worker.start();
      expect(await host.tasks.wait(safe!.id)).toMatchObject({
        state: 'succeeded',
        attempt: 2,
        result: { attempt: 2 },
      });
      const safeLogs = (await host.tasks.logs(safe!.id)).map((l) => [l.seq, l.message]);
      expect(safeLogs).toEqual([
        [5, 'The worker running this task stopped; the task type is retry-safe, so it runs again.'],
        [6, 'ran again'],
      ]);
      expect(await host.tasks.wait(fragile!.id)).toMatchObject({
        state: 'interrupted',
        attempt: 1,
        result: null,
        error: {
          code: 'PLUGBOARD_TASK_INTERRUPTED',
          message: 'The worker running this task stopped before it finished.',
        },
      });
      expect((await host.tasks.logs(fragile!.id)).map((l) => [l.seq, l.message])).toEqual([
        [5, 'The worker running this task stopped before it finished.'],
      ]);
      expect(worker.stats()).toEqual({ running: 0 });
    } finally {
      client.disconnect();
      await host.stop({ timeoutMs: 500 });
      await worker.stop({ timeoutMs: 500 });
    }
  }, 30_000);
});
