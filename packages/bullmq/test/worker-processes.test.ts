import { randomUUID } from 'node:crypto';
import { bullmqRuntime } from '@plugboard/bullmq';
import type { Host } from '@plugboard/core';
import { createTestHost } from '@plugboard/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hasRedis } from '../../../test/requirements.js';
import { NapPlugin } from './fixtures/plugins.js';
import { watchStarts } from './helpers.js';
import { startRedisServer, type TestRedisServer } from './redis-server.js';
import { startWorkerProcess, type WorkerProcess } from './worker-process.js';

const redisHere = hasRedis('packages/bullmq/test/worker-processes.test.ts');

let redis: TestRedisServer;
const workers: WorkerProcess[] = [];
const hosts: Host[] = [];

beforeAll(async () => {
  if (redisHere) redis = await startRedisServer();
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.kill('SIGTERM')));
  await Promise.all(hosts.splice(0).map((h) => h.stop()));
});
afterAll(async () => {
  await redis?.stop();
});

const apiHost = async (queue: string): Promise<Host> => {
  const host = await createTestHost({
    plugins: [NapPlugin],
    runtime: bullmqRuntime({ connection: redis.connection, queue }),
  });
  hosts.push(host);
  return host;
};

async function worker(queue: string, options: Record<string, unknown> = {}): Promise<WorkerProcess> {
  const started = await startWorkerProcess({ connection: redis.connection, queue, ...options });
  workers.push(started);
  return started;
}

describe.skipIf(!redisHere)('worker processes', () => {
  it('a worker killed mid-task: another worker completes its retry-safe tasks as a new attempt, the others are recorded interrupted', async () => {
    const queue = `kill-${randomUUID()}`;
    const host = await apiHost(queue);
    const timings = { concurrency: 4, lockDurationMs: 1000, stalledIntervalMs: 500 };
    const doomed = await worker(queue, timings);
    const allStarted = watchStarts(host);
    const safe = [];
    for (let i = 0; i < 3; i++) safe.push((await host.execute('nap', { ms: 1500 })).tasks[0]!);
    const fragile = (await host.execute('nap', { ms: 1500, retrySafe: false })).tasks[0]!;
    await allStarted([...safe, fragile].map((t) => t.id));

    await doomed.kill('SIGKILL');
    const survivor = await worker(queue, timings);

    const finished = await Promise.all(safe.map((t) => host.tasks.wait(t.id)));
    for (const record of finished) {
      expect(record).toMatchObject({
        state: 'succeeded',
        attempt: 2,
        result: { pid: survivor.pid, attempt: 2 },
      });
      const logs = await host.tasks.logs(record.id);
      expect(logs.map((l) => [l.level, l.message])).toContainEqual([
        'always',
        'The worker running this task stopped; the task type is retry-safe, so it runs again.',
      ]);
    }
    expect(await host.tasks.wait(fragile.id)).toMatchObject({
      state: 'interrupted',
      attempt: 1,
      error: {
        code: 'PLUGBOARD_TASK_INTERRUPTED',
        message: 'The worker running this task stopped before it finished.',
      },
    });
    expect((await host.tasks.list({ state: ['queued', 'running'] })).items).toEqual([]);
  }, 60_000);

  it('a task cancelled while its worker is dead is recorded cancelled by the worker that takes it after the stall, not run again', async () => {
    const queue = `stall-cancel-${randomUUID()}`;
    const host = await apiHost(queue);
    const timings = { lockDurationMs: 1000, stalledIntervalMs: 500 };
    const doomed = await worker(queue, timings);
    const started = watchStarts(host);
    // Retry-safe and short: were the cancel request ignored, the next worker would run it again to success.
    const task = (await host.execute('nap', { ms: 1000 })).tasks[0]!;
    await started([task.id]);
    await doomed.kill('SIGKILL');
    // Nobody hears the request now: only the flag it leaves in Redis reaches the next worker.
    const cancelling = host.tasks.cancel(task.id);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await worker(queue, timings);
    expect(await cancelling).toMatchObject({
      state: 'cancelled',
      attempt: 1,
      result: null,
      error: { code: 'PLUGBOARD_TASK_CANCELLED', message: 'The task was cancelled before it ran.' },
    });
    const messages = (await host.tasks.logs(task.id)).map((l) => l.message);
    expect(messages.filter((m) => m.startsWith('The worker running this task stopped'))).toEqual([]);
  }, 60_000);

  it('cancels a task running in another process', async () => {
    const queue = `cancel-${randomUUID()}`;
    const host = await apiHost(queue);
    await worker(queue);
    const started = watchStarts(host);
    const task = (await host.execute('nap', { ms: 30_000 })).tasks[0]!;
    await started([task.id]);
    const begun = Date.now();
    const record = await host.tasks.cancel(task.id);
    expect(Date.now() - begun).toBeLessThan(3000);
    expect(record).toMatchObject({ state: 'cancelled', error: { code: 'PLUGBOARD_TASK_CANCELLED' } });
    expect(record.statusText).toMatch(/^napping in process \d+$/);
  }, 60_000);

  it('two workers finish a batch of I/O-bound tasks close to twice as fast as one', async () => {
    const tasks = 12;
    const ms = 400;
    async function batch(workerCount: number): Promise<number> {
      const queue = `throughput-${workerCount}-${randomUUID()}`;
      const host = await apiHost(queue);
      await Promise.all(Array.from({ length: workerCount }, () => worker(queue, { concurrency: 2 })));
      const begun = performance.now();
      const ids: string[] = [];
      for (let i = 0; i < tasks; i++) ids.push((await host.execute('nap', { ms })).tasks[0]!.id);
      const records = await Promise.all(ids.map((id) => host.tasks.wait(id)));
      const elapsed = performance.now() - begun;
      expect(records.every((r) => r.state === 'succeeded')).toBe(true);
      expect(new Set(records.map((r) => (r.result as { pid: number }).pid)).size).toBe(workerCount);
      await Promise.all(workers.splice(0).map((w) => w.kill('SIGTERM')));
      return elapsed;
    }
    const one = await batch(1);
    const two = await batch(2);
    const ratio = one / two;
    console.log(
      `1 worker: ${Math.round(one)} ms, 2 workers: ${Math.round(two)} ms, speed-up ${ratio.toFixed(2)}x`,
    );
    expect(one).toBeGreaterThanOrEqual((tasks / 2) * ms);
    expect(ratio).toBeGreaterThanOrEqual(1.5);
  }, 120_000);
});
