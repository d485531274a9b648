import { randomUUID } from 'node:crypto';
import { bullmqRuntime, createWorker } from '@plugboard/bullmq';
import { createHost } from '@plugboard/core';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { hasRedis } from '../../../test/requirements.js';
import { NapPlugin } from './fixtures/plugins.js';
import { freePort, startRedisServer, type TestRedisServer } from './redis-server.js';

const redisHere = hasRedis('packages/bullmq/test/connection.test.ts');

describe('an unreachable Redis', () => {
  it('fails the API host start within connectTimeoutMs with a coded error that says what to check', async () => {
    const port = await freePort();
    const host = createHost({
      env: false,
      argv: [],
      runtime: bullmqRuntime({ connection: { host: '127.0.0.1', port }, connectTimeoutMs: 300 }),
    });
    host.events.on('error', () => {});
    const begun = Date.now();
    const failure = await host.start().catch((error: unknown) => error);
    expect(Date.now() - begun).toBeLessThan(3000);
    expect(failure).toMatchObject({ code: 'PLUGBOARD_STORE_UNAVAILABLE' });
    expect((failure as Error).message).toMatch(
      new RegExp(
        `^Redis for BullMQ queue \`plugboard\` could not be reached: no answer within 300 ms \\(\`connectTimeoutMs\`\\); last error: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\. Check the \`connection\` option and that Redis is running\\.$`,
      ),
    );
  });

  it('fails a worker start the same way, and leaves it stopped', async () => {
    const port = await freePort();
    const worker = createWorker({
      env: false,
      argv: [],
      plugins: { classes: [NapPlugin] },
      connection: { host: '127.0.0.1', port },
      connectTimeoutMs: 300,
    });
    const errors: Error[] = [];
    worker.events.on('error', (error: Error) => errors.push(error));
    const failure = await worker.start().catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'PLUGBOARD_STORE_UNAVAILABLE' });
    expect((failure as Error).message).toContain(
      `no answer within 300 ms (\`connectTimeoutMs\`); last error: connect ECONNREFUSED 127.0.0.1:${port}.`,
    );
    // The connection errors reach the worker's bus as they happen.
    expect(errors.map((e) => e.message)).toContain(`connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(worker.state).toBe('stopped');
  });

  it.skipIf(!redisHere)(
    'lost while a task runs: the API host and the worker still stop, within their timeouts',
    async () => {
      const redis = await startRedisServer();
      let pair: Awaited<ReturnType<typeof startNapping>>;
      try {
        pair = await startNapping(redis);
      } finally {
        await redis.stop();
      }
      await expectBoundedStops(pair);
    },
  );
});

describe('a Redis that stops answering on open connections (a silent partition)', () => {
  it.skipIf(!redisHere)(
    'while a task runs: the API host and the worker still stop within their timeouts, and the worker does not spin',
    async () => {
      const redis = await startRedisServer();
      const probe = new Redis(redis.connection);
      const pid = Number(/process_id:(\d+)/.exec(await probe.info('server'))?.[1]);
      probe.disconnect();
      expect(pid).toBeGreaterThan(0);
      try {
        const pair = await startNapping(redis);
        // The server keeps its connections open and answers nothing: its process is stopped, not ended.
        process.kill(pid, 'SIGSTOP');
        await expectBoundedStops(pair);
        // Nothing retries in a tight loop after the stop: the process's own timers still fire on time.
        const begun = Date.now();
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(Date.now() - begun).toBeLessThan(1000);
      } finally {
        process.kill(pid, 'SIGCONT');
        await redis.stop();
      }
    },
  );
});

/** An API host and a worker on `redis` (300 ms connect timeout), with a 5 s nap task running on the worker. */
async function startNapping(redis: TestRedisServer) {
  const options = { connection: redis.connection, queue: `lost-${randomUUID()}`, connectTimeoutMs: 300 };
  const worker = createWorker({ env: false, argv: [], plugins: { classes: [NapPlugin] }, ...options });
  const host = createHost({
    env: false,
    argv: [],
    plugins: { classes: [NapPlugin] },
    runtime: bullmqRuntime(options),
  });
  worker.events.on('error', () => {});
  host.events.on('error', () => {});
  await worker.start();
  await host.start();
  const started = new Promise<void>((resolve) => host.events.once('task:started', () => resolve()));
  await host.execute('nap', { ms: 5000 });
  await started;
  return { host, worker };
}

/** Stops both with Redis gone: each within its bounds (the worker gives its task 200 ms). */
async function expectBoundedStops({ host, worker }: Awaited<ReturnType<typeof startNapping>>) {
  let begun = Date.now();
  await host.stop();
  expect(Date.now() - begun).toBeLessThan(2000);
  begun = Date.now();
  await worker.stop({ timeoutMs: 200 });
  expect(Date.now() - begun).toBeLessThan(4000);
  expect(worker.state).toBe('stopped');
}
