import { randomUUID } from 'node:crypto';
import { createWorker } from '@plugboard/bullmq';
import type { TaskRecord } from '@plugboard/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRedis } from '../../../test/requirements.js';
import { NapPlugin } from './fixtures/plugins.js';
import { bullmqFleet, eventually } from './helpers.js';
import { startRedisServer, type TestRedisServer } from './redis-server.js';

// What a worker (in this process) does with its Redis server: the connections it opens and closes, and a Redis
// that refuses to record a task's start.

const redisHere = hasRedis('packages/bullmq/test/worker-redis.test.ts');

let redis: TestRedisServer;
let client: Redis;
beforeAll(async () => {
  if (!redisHere) return;
  redis = await startRedisServer();
  client = new Redis(redis.connection);
});
afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});
const fleet = bullmqFleet(() => redis.connection, 500);

/** How many connections Redis has from clients other than the test's own. */
async function connections(): Promise<number> {
  const list = (await client.client('LIST')) as string;
  return list.trim().split('\n').length - 1;
}

describe.skipIf(!redisHere)('a worker and its Redis', () => {
  it('closes every connection it opened when it stops, and reports no error', async () => {
    const before = await connections();
    const worker = createWorker({
      env: false,
      argv: [],
      plugins: { classes: [NapPlugin] },
      connection: redis.connection,
      queue: `connections-${randomUUID()}`,
    });
    const errors: Error[] = [];
    worker.events.on('error', (error: Error) => errors.push(error));
    await worker.start();
    expect(await connections()).toBeGreaterThan(before);
    await worker.stop();
    expect(await eventually(connections, (n) => n === before)).toBe(before);
    expect(errors).toEqual([]);
  });

  it('reports what Redis refuses to its BullMQ worker on its events, and keeps running', async () => {
    const queue = `refused-fetch-${randomUUID()}`;
    // Another program wrote a plain value where BullMQ keeps the marker its workers wait on for jobs.
    await client.set(`bull:${queue}:marker`, 'not a sorted set');
    const worker = createWorker({
      env: false,
      argv: [],
      plugins: { classes: [NapPlugin] },
      connection: redis.connection,
      queue,
    });
    const errors: Error[] = [];
    worker.events.on('error', (error: Error) => errors.push(error));
    try {
      await worker.start();
      const reported = await eventually(
        async () => errors,
        (list) => list.some((e) => /WRONGTYPE/.test(e.message)),
      );
      expect(reported.some((e) => /WRONGTYPE/.test(e.message))).toBe(true);
      expect(worker.state).toBe('started');
    } finally {
      await client.del(`bull:${queue}:marker`);
      await worker.stop({ timeoutMs: 500 });
    }
  });

  it('fails a task whose start Redis refuses to record with Redis’s answer, without running it', async () => {
    const queue = `refused-start-${randomUUID()}`;
    // Another program wrote a plain value where workers keep the hash of started tasks.
    await client.set(`bull:${queue}:plugboard:started`, 'not a hash');
    const host = await fleet.apiHost({ queue, plugins: [NapPlugin] });
    const started: TaskRecord[] = [];
    host.events.on('task:started', (r: TaskRecord) => started.push(r));
    await fleet.worker({ queue, plugins: [NapPlugin] });
    const task = (await host.execute('nap', { ms: 10 })).tasks[0]!;
    expect(await host.tasks.wait(task.id)).toMatchObject({
      state: 'failed',
      result: null,
      error: {
        code: 'PLUGBOARD_TASK_FAILED',
        message: expect.stringContaining('WRONGTYPE'),
      },
    });
    expect(started).toEqual([]);
    await client.del(`bull:${queue}:plugboard:started`);
  });
});
