import { randomUUID } from 'node:crypto';
import { bullmqRuntime, createWorker, type PlugboardWorker } from '@plugboard/bullmq';
import { createHost, type Host, type TaskRecord } from '@plugboard/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NapPlugin } from './fixtures/plugins.js';
import { startRedisServer, type TestRedisServer } from './redis-server.js';

let redis: TestRedisServer;
const hosts: Host[] = [];
const workers: PlugboardWorker[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
});
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop({ timeoutMs: 200 })));
  await Promise.all(workers.splice(0).map((w) => w.stop({ timeoutMs: 200 })));
});
afterAll(async () => {
  await redis?.stop();
});

async function apiHost(queue: string): Promise<Host> {
  const host = createHost({
    env: false,
    argv: [],
    plugins: { classes: [NapPlugin] },
    runtime: bullmqRuntime({ connection: redis.connection, queue }),
  });
  hosts.push(host);
  await host.start();
  return host;
}

async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await read();
  while (!ok(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    value = await read();
  }
  return value;
}

/** Counts the `task:finished` events of each task a host emits. */
function finishedCounts(host: Host): Map<string, number> {
  const counts = new Map<string, number>();
  host.events.on('task:finished', (r: TaskRecord) => counts.set(r.id, (counts.get(r.id) ?? 0) + 1));
  return counts;
}

describe('several API processes on one queue', () => {
  it('each sees the tasks the others queue, with their events, states and results', async () => {
    const queue = `apis-${randomUUID()}`;
    const worker = createWorker({
      env: false,
      argv: [],
      plugins: { classes: [NapPlugin] },
      connection: redis.connection,
      queue,
    });
    workers.push(worker);
    await worker.start();
    const one = await apiHost(queue);
    const two = await apiHost(queue);
    const seenByTwo: string[] = [];
    for (const event of ['task:queued', 'task:started', 'task:progress', 'task:finished'] as const) {
      two.events.on(event, () => seenByTwo.push(event));
    }
    const finishedByTwo = finishedCounts(two);

    const task = (await one.execute('nap', { ms: 50 })).tasks[0]!;
    const done = await one.tasks.wait(task.id);
    expect(done).toMatchObject({ state: 'succeeded', result: { pid: process.pid, attempt: 1 } });
    const mirrored = await eventually(
      () => two.tasks.get(task.id),
      (r) => r?.state === 'succeeded',
    );
    expect(mirrored).toMatchObject({ state: 'succeeded', result: done.result, statusText: done.statusText });
    expect(seenByTwo).toEqual(['task:queued', 'task:started', 'task:progress', 'task:finished']);
    expect(finishedByTwo.get(task.id)).toBe(1);
  });

  it('a queued task cancelled by one is recorded cancelled by all, with one task:finished each', async () => {
    const queue = `apis-cancel-${randomUUID()}`;
    // No worker: the task stays queued.
    const one = await apiHost(queue);
    const two = await apiHost(queue);
    const finishedByOne = finishedCounts(one);
    const finishedByTwo = finishedCounts(two);
    const task = (await one.execute('nap', { ms: 50 })).tasks[0]!;
    await eventually(
      () => two.tasks.get(task.id),
      (r) => r?.state === 'queued',
    );

    const cancelled = await two.tasks.cancel(task.id);
    expect(cancelled).toMatchObject({
      state: 'cancelled',
      startedAt: null,
      error: { code: 'PLUGBOARD_TASK_CANCELLED' },
    });
    expect(
      await eventually(
        () => one.tasks.get(task.id),
        (r) => r?.state === 'cancelled',
      ),
    ).toMatchObject({ state: 'cancelled' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(finishedByOne.get(task.id)).toBe(1);
    expect(finishedByTwo.get(task.id)).toBe(1);
    await expect(one.tasks.cancel(task.id)).rejects.toMatchObject({ code: 'PLUGBOARD_TASK_FINISHED' });
  });
});
