import { randomUUID } from 'node:crypto';
import { createWorker, type PlugboardWorker, type WorkerOptions } from '@plugboard/bullmq';
import { ActionPlugin, Task, type TaskContext, type TaskRecord, Type } from '@plugboard/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hasRedis } from '../../../test/requirements.js';
import { bullmqFleet, nap } from './helpers.js';
import { type RedisProxy, startRedisProxy } from './redis-proxy.js';
import { startRedisServer, type TestRedisServer } from './redis-server.js';

// A worker that loses Redis in the middle of a task (its machine hangs, its network drops) stops renewing its hold
// on the job; BullMQ's stalled-job check on another worker hands the job on, and that worker applies the crash
// rule. Every worker runs in this process: the one that is lost talks to Redis through a proxy the test freezes.

const redisHere = hasRedis('packages/bullmq/test/worker-takeover.test.ts');

let redis: TestRedisServer;
beforeAll(async () => {
  if (redisHere) redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});
const fleet = bullmqFleet(() => redis.connection, 500);

const workers: PlugboardWorker[] = [];
const proxies: RedisProxy[] = [];
afterEach(async () => {
  // A lost worker's connections drop first, as they do in the end when a network stays down.
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  await Promise.all(workers.splice(0).map((w) => w.stop({ timeoutMs: 200 })));
});

/** May run again from the start after its worker is lost. */
class Resumable extends Task<{ ms: number }> {
  static override retrySafe = true;
  async run(ctx: TaskContext) {
    ctx.log.info(`attempt ${ctx.attempt} begins`);
    await nap(this.input.ms, ctx.signal);
    return { attempt: ctx.attempt };
  }
}

/** Must not run twice. */
class OneShot extends Task<{ ms: number }> {
  async run(ctx: TaskContext) {
    ctx.log.info(`attempt ${ctx.attempt} begins`);
    await nap(this.input.ms, ctx.signal);
    return { attempt: ctx.attempt };
  }
}

class Work extends ActionPlugin({
  id: 'work',
  name: 'Work',
  args: Type.Object({ ms: Type.Integer({ minimum: 0 }), retrySafe: Type.Boolean({ default: true }) }),
  tasks: [Resumable, OneShot],
}) {
  createTasks(args: { ms: number; retrySafe: boolean }) {
    return args.retrySafe ? new Resumable({ ms: args.ms }) : new OneShot({ ms: args.ms });
  }
}

class Other extends ActionPlugin({
  id: 'other',
  name: 'Other',
  args: Type.Object({}),
  tasks: [OneShot],
}) {
  createTasks() {
    return new OneShot({ ms: 0 });
  }
}

/** Which attempts of which tasks a worker started, and the errors it reported. */
interface Watched {
  readonly worker: PlugboardWorker;
  readonly started: Array<[string, number]>;
  readonly errors: Error[];
}

/**
 * Starts a worker in this process. Through a proxy, it can be lost, and its hold on its jobs lapses soon
 * (`lockDurationMs` 600); directly, it holds them for 2 s between renewals. Every worker of a queue looks for
 * stalled jobs every 250 ms (BullMQ lets one worker of the queue look per interval, the one that looked last
 * setting the interval), so a lost worker's jobs are taken over about a second after it is lost.
 */
async function startWorker(queue: string, proxy?: RedisProxy, options: Partial<WorkerOptions> = {}) {
  const worker = createWorker({
    env: false,
    argv: [],
    plugins: { classes: [Work] },
    connection: proxy ? proxy.connection : redis.connection,
    queue,
    concurrency: 2,
    // A lost worker's stop waits this long at most for each of its connections.
    connectTimeoutMs: proxy ? 500 : 1000,
    lockDurationMs: proxy ? 600 : 2000,
    stalledIntervalMs: 250,
    ...options,
  });
  workers.push(worker);
  const watched: Watched = { worker, started: [], errors: [] };
  worker.events.on('task:started', (r: TaskRecord) => watched.started.push([r.id, r.attempt]));
  worker.events.on('error', (error: Error) => watched.errors.push(error));
  await worker.start();
  return watched;
}

async function lostWorker(queue: string, options: Partial<WorkerOptions> = {}) {
  const proxy = await startRedisProxy(redis.connection);
  proxies.push(proxy);
  return { proxy, ...(await startWorker(queue, proxy, options)) };
}

/** Resolves once the API host has stored the log line `message` of task `id`. */
function logged(host: Awaited<ReturnType<typeof fleet.apiHost>>, id: string, message: string) {
  return new Promise<void>((resolve) =>
    host.events.on('task:log', (event) => {
      if (event.id === id && event.entry.message === message) resolve();
    }),
  );
}

const RERUN = 'The worker running this task stopped; the task type is retry-safe, so it runs again.';
const STOPPED = 'The worker running this task stopped before it finished.';

describe.skipIf(!redisHere)('a worker lost in the middle of a task', () => {
  it('another worker runs its retry-safe task again as the next attempt and records the other interrupted, each with a log line after the lost worker’s', async () => {
    const queue = `takeover-${randomUUID()}`;
    const host = await fleet.apiHost({ queue, plugins: [Work] });
    const lost = await lostWorker(queue);
    const queued: Array<[string, number]> = [];
    host.events.on('task:queued', (r: TaskRecord) => queued.push([r.id, r.attempt]));
    const safe = (await host.execute('work', { ms: 600 })).tasks[0]!;
    const fragile = (await host.execute('work', { ms: 600, retrySafe: false })).tasks[0]!;
    await Promise.all([
      logged(host, safe.id, 'attempt 1 begins'),
      logged(host, fragile.id, 'attempt 1 begins'),
    ]);
    lost.proxy.freeze();
    const survivor = await startWorker(queue);

    expect(await host.tasks.wait(safe.id)).toMatchObject({
      state: 'succeeded',
      attempt: 2,
      result: { attempt: 2 },
    });
    expect((await host.tasks.logs(safe.id)).map((l) => [l.seq, l.level, l.message])).toEqual([
      [1, 'info', 'attempt 1 begins'],
      [2, 'always', RERUN],
      [3, 'info', 'attempt 2 begins'],
    ]);
    expect(await host.tasks.wait(fragile.id)).toMatchObject({
      state: 'interrupted',
      attempt: 1,
      result: null,
      error: { code: 'PLUGBOARD_TASK_INTERRUPTED', message: STOPPED },
    });
    expect((await host.tasks.logs(fragile.id)).map((l) => [l.seq, l.level, l.message])).toEqual([
      [1, 'info', 'attempt 1 begins'],
      [2, 'always', STOPPED],
    ]);
    // The API heard of the next attempt of the one, and of none of the other.
    expect(queued.filter(([id]) => id === safe.id)).toEqual([
      [safe.id, 1],
      [safe.id, 2],
    ]);
    expect(queued.filter(([id]) => id === fragile.id)).toEqual([[fragile.id, 1]]);
    expect(lost.started).toHaveLength(2);
    expect(lost.started).toEqual(
      expect.arrayContaining([
        [safe.id, 1],
        [fragile.id, 1],
      ]),
    );
    expect(survivor.started).toEqual([[safe.id, 2]]);
    expect(survivor.errors).toEqual([]);
    expect(survivor.worker.stats()).toEqual({ running: 0 });

    // The lost worker's connections drop in the end; it still stops, within its timeouts, and says that what it had
    // to send was not sent.
    await lost.proxy.close();
    const begun = Date.now();
    await lost.worker.stop({ timeoutMs: 100 });
    expect(Date.now() - begun).toBeLessThan(8000);
    expect(lost.worker.state).toBe('stopped');
    expect(lost.errors.map((e) => e.message)).toContain(
      'Task updates could not be sent before the worker stopped: Redis did not answer.',
    );
    // Nothing it did after it was lost reached the API.
    expect((await host.tasks.get(safe.id))?.attempt).toBe(2);
  }, 30_000);

  it('a task whose worker is lost twice runs a third attempt, which continues the log', async () => {
    const queue = `takeover-twice-${randomUUID()}`;
    const host = await fleet.apiHost({ queue, plugins: [Work] });
    const first = await lostWorker(queue);
    const task = (await host.execute('work', { ms: 400 })).tasks[0]!;
    await logged(host, task.id, 'attempt 1 begins');
    first.proxy.freeze();
    // The second takes the task over, then is lost in its turn.
    const second = await lostWorker(queue);
    await logged(host, task.id, 'attempt 2 begins');
    second.proxy.freeze();
    const third = await startWorker(queue);

    expect(await host.tasks.wait(task.id)).toMatchObject({
      state: 'succeeded',
      attempt: 3,
      result: { attempt: 3 },
    });
    expect((await host.tasks.logs(task.id)).map((l) => [l.seq, l.message])).toEqual([
      [1, 'attempt 1 begins'],
      [2, RERUN],
      [3, 'attempt 2 begins'],
      [4, RERUN],
      [5, 'attempt 3 begins'],
    ]);
    expect(second.started).toEqual([[task.id, 2]]);
    expect(third.started).toEqual([[task.id, 3]]);
  }, 30_000);

  it('a worker that does not have the task’s plugin records a retry-safe task it takes over interrupted', async () => {
    const queue = `takeover-unknown-${randomUUID()}`;
    const host = await fleet.apiHost({ queue, plugins: [Work] });
    const lost = await lostWorker(queue);
    const task = (await host.execute('work', { ms: 400 })).tasks[0]!;
    await logged(host, task.id, 'attempt 1 begins');
    lost.proxy.freeze();
    // A worker deployed with other plugins only: it cannot tell whether the task type is retry-safe.
    const other = await startWorker(queue, undefined, { plugins: { classes: [Other] } });
    expect(await host.tasks.wait(task.id)).toMatchObject({
      state: 'interrupted',
      attempt: 1,
      error: { code: 'PLUGBOARD_TASK_INTERRUPTED', message: STOPPED },
    });
    expect(other.started).toEqual([]);
    expect(other.errors).toEqual([]);
  }, 30_000);

  it('a task cancelled while its worker is lost is recorded cancelled by the worker that takes it over, not run again', async () => {
    const queue = `takeover-cancel-${randomUUID()}`;
    const host = await fleet.apiHost({ queue, plugins: [Work] });
    const lost = await lostWorker(queue);
    // Retry-safe and short: were the request ignored, the next worker would run it again to success.
    const task = (await host.execute('work', { ms: 400 })).tasks[0]!;
    await logged(host, task.id, 'attempt 1 begins');
    lost.proxy.freeze();
    // Only the flag the request leaves in Redis reaches the next worker.
    const cancelling = host.tasks.cancel(task.id);
    const survivor = await startWorker(queue);
    expect(await cancelling).toMatchObject({
      state: 'cancelled',
      attempt: 1,
      result: null,
      error: { code: 'PLUGBOARD_TASK_CANCELLED', message: 'The task was cancelled before it ran.' },
    });
    expect((await host.tasks.logs(task.id)).map((l) => l.message)).toEqual(['attempt 1 begins']);
    expect(survivor.started).toEqual([]);
  }, 30_000);
});
