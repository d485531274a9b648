import { randomUUID } from 'node:crypto';
import { createWorker, type PlugboardWorker, type WorkerOptions } from '@plugboard/bullmq';
import { ActionPlugin, Task, type TaskContext, TaskError, type TaskRecord, Type } from '@plugboard/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hasRedis } from '../../../test/requirements.js';
import { bullmqFleet, nap, watchStarts } from './helpers.js';
import { startRedisServer, type TestRedisServer } from './redis-server.js';

// What a user sees of a task on a BullMQ worker (in this process) when it is cancelled, fails, or its worker stops.

const redisHere = hasRedis('packages/bullmq/test/worker-cancel-retry.test.ts');

let redis: TestRedisServer;
beforeAll(async () => {
  if (redisHere) redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});
const fleet = bullmqFleet(() => redis.connection, 500);

const workers: PlugboardWorker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop({ timeoutMs: 200 })));
});

class Sleepy extends Task<{ ms: number }> {
  async run(ctx: TaskContext) {
    await nap(this.input.ms, ctx.signal);
    return { slept: this.input.ms };
  }
}

/** When each attempt of a {@link Flaky} task failed, by the `key` of its input. */
const failedAt = new Map<string, number>();

/** Fails its first attempt; the second waits out a fixed backoff of 300 ms. */
class Flaky extends Task<{ key: string }> {
  static override retry = { attempts: 3, backoff: { type: 'fixed' as const, delayMs: 300 } };
  async run(ctx: TaskContext) {
    if (ctx.attempt === 1) {
      failedAt.set(this.input.key, Date.now());
      throw new TaskError('the first attempt fails');
    }
    return { attempt: ctx.attempt, startedAt: Date.now() };
  }
}

/** Fails in a way no retry can help with. */
class Refusing extends Task<Record<string, never>> {
  static override retry = { attempts: 3, backoff: { type: 'fixed' as const, delayMs: 10 } };
  async run(): Promise<never> {
    throw new TaskError('the account is closed', { code: 'ACCOUNT_CLOSED', retryable: false });
  }
}

/** Fails, retryably, after `ms`. */
class FailsLater extends Task<{ ms: number }> {
  static override retry = { attempts: 3, backoff: { type: 'fixed' as const, delayMs: 10 } };
  async run(ctx: TaskContext): Promise<never> {
    await nap(this.input.ms, ctx.signal);
    throw new TaskError('the remote service went away');
  }
}

const kinds = { sleepy: Sleepy, flaky: Flaky, refusing: Refusing, 'fails-later': FailsLater };

class Jobs extends ActionPlugin({
  id: 'jobs',
  name: 'Jobs',
  args: Type.Object({
    kind: Type.Union(Object.keys(kinds).map((k) => Type.Literal(k))),
    ms: Type.Integer({ minimum: 0, default: 0 }),
    key: Type.String({ default: '' }),
  }),
  tasks: Object.values(kinds),
}) {
  createTasks(args: { kind: string; ms: number; key: string }) {
    if (args.kind === 'sleepy') return new Sleepy({ ms: args.ms });
    if (args.kind === 'flaky') return new Flaky({ key: args.key });
    if (args.kind === 'refusing') return new Refusing({});
    return new FailsLater({ ms: args.ms });
  }
}

async function startWorker(queue: string, options: Partial<WorkerOptions> = {}) {
  const worker = createWorker({
    env: false,
    argv: [],
    plugins: { classes: [Jobs] },
    connection: redis.connection,
    queue,
    ...options,
  });
  workers.push(worker);
  const errors: Error[] = [];
  worker.events.on('error', (error: Error) => errors.push(error));
  const report = await worker.start();
  return { worker, errors, report };
}

const execute = async (host: Awaited<ReturnType<typeof fleet.apiHost>>, args: Record<string, unknown>) =>
  (await host.execute('jobs', args)).tasks[0]!;

describe.skipIf(!redisHere)('a task on a worker', () => {
  it('cancelled while it runs stops and is recorded cancelled; the other worker of the queue runs on', async () => {
    const queue = `cancel-${randomUUID()}`;
    const host = await fleet.apiHost({ queue, plugins: [Jobs] });
    const one = await startWorker(queue, { concurrency: 1 });
    const two = await startWorker(queue, { concurrency: 1 });
    const started = watchStarts(host);
    const doomed = await execute(host, { kind: 'sleepy', ms: 30_000 });
    const kept = await execute(host, { kind: 'sleepy', ms: 1000 });
    await started([doomed.id, kept.id]);
    // Each worker runs one of them, and both hear the request.
    expect([one.worker.stats().running, two.worker.stats().running]).toEqual([1, 1]);
    const begun = Date.now();
    expect(await host.tasks.cancel(doomed.id)).toMatchObject({
      state: 'cancelled',
      result: null,
      error: { code: 'PLUGBOARD_TASK_CANCELLED', message: 'The task was cancelled while it ran.' },
    });
    expect(Date.now() - begun).toBeLessThan(3000);
    expect(await host.tasks.wait(kept.id)).toMatchObject({ state: 'succeeded', result: { slept: 1000 } });
    expect([...one.errors, ...two.errors]).toEqual([]);
  });

  it('that fails retryably runs again after its backoff, as the next attempt, with no crash line in its log', async () => {
    const queue = `retry-${randomUUID()}`;
    const host = await fleet.apiHost({ queue, plugins: [Jobs] });
    const { errors } = await startWorker(queue);
    const queued: TaskRecord[] = [];
    host.events.on('task:queued', (r: TaskRecord) => queued.push(r));
    const key = randomUUID();
    const task = await execute(host, { kind: 'flaky', key });
    const end = await host.tasks.wait(task.id);
    expect(end).toMatchObject({ state: 'succeeded', attempt: 2, error: null });
    const { startedAt } = end.result as { startedAt: number };
    // The fixed backoff is 300 ms (timers may fire a little early).
    expect(startedAt - failedAt.get(key)!).toBeGreaterThanOrEqual(290);
    expect(queued.filter((r) => r.id === task.id).map((r) => [r.attempt, r.error?.message ?? null])).toEqual([
      [1, null],
      [2, 'the first attempt fails'],
    ]);
    expect((await host.tasks.logs(task.id)).map((l) => l.message)).not.toContainEqual(
      expect.stringMatching(/stopped/),
    );
    expect(errors).toEqual([]);
  });

  it('that fails with an error no retry can help is recorded failed at once, whatever its retry policy', async () => {
    const queue = `refused-${randomUUID()}`;
    const host = await fleet.apiHost({ queue, plugins: [Jobs] });
    await startWorker(queue);
    const task = await execute(host, { kind: 'refusing' });
    expect(await host.tasks.wait(task.id)).toMatchObject({
      state: 'failed',
      attempt: 1,
      error: { code: 'ACCOUNT_CLOSED', message: 'the account is closed' },
    });
  });

  it('that fails while its worker stops is recorded failed, not queued for another attempt', async () => {
    const queue = `failing-stop-${randomUUID()}`;
    const host = await fleet.apiHost({ queue, plugins: [Jobs] });
    const { worker } = await startWorker(queue);
    const started = watchStarts(host);
    const queued: TaskRecord[] = [];
    host.events.on('task:queued', (r: TaskRecord) => queued.push(r));
    const task = await execute(host, { kind: 'fails-later', ms: 300 });
    await started([task.id]);
    await worker.stop({ timeoutMs: 5000 });
    expect(await host.tasks.wait(task.id)).toMatchObject({
      state: 'failed',
      attempt: 1,
      error: { message: 'the remote service went away' },
    });
    expect(queued.map((r) => r.attempt)).toEqual([1]);
  });
});

describe.skipIf(!redisHere)('stopping a worker', () => {
  it('called again while it stops, returns and leaves it stopping until the first stop has finished', async () => {
    const queue = `stop-twice-${randomUUID()}`;
    const host = await fleet.apiHost({ queue, plugins: [Jobs] });
    const { worker, errors } = await startWorker(queue);
    const started = watchStarts(host);
    const task = await execute(host, { kind: 'sleepy', ms: 400 });
    await started([task.id]);
    const first = worker.stop({ timeoutMs: 5000 });
    await worker.stop();
    expect(worker.state).toBe('stopping');
    await first;
    expect(worker.state).toBe('stopped');
    expect(await host.tasks.wait(task.id)).toMatchObject({ state: 'succeeded', result: { slept: 400 } });
    expect(errors).toEqual([]);
  });

  it('waits `shutdownTimeoutMs` by default, then records its running tasks interrupted', async () => {
    const queue = `shutdown-default-${randomUUID()}`;
    const host = await fleet.apiHost({ queue, plugins: [Jobs] });
    const { worker, report } = await startWorker(queue, { shutdownTimeoutMs: 300 });
    expect(worker.report).toBe(report);
    const started = watchStarts(host);
    const task = await execute(host, { kind: 'sleepy', ms: 30_000 });
    await started([task.id]);
    await expect(worker.stop({ timeoutMs: -1 })).rejects.toMatchObject({
      code: 'PLUGBOARD_INVALID_OPTION',
      message: 'Expected `timeoutMs` to be an integer >= 0, got `-1` (number).',
    });
    expect(worker.state).toBe('started');
    const begun = Date.now();
    await worker.stop();
    expect(Date.now() - begun).toBeGreaterThanOrEqual(250);
    expect(await host.tasks.wait(task.id)).toMatchObject({
      state: 'interrupted',
      error: {
        code: 'PLUGBOARD_TASK_INTERRUPTED',
        message:
          'The worker stopped while the task ran (it did not finish within the 300 ms shutdown timeout).',
      },
    });
  });
});
