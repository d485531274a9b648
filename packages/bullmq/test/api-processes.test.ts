import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRedis } from '../../../test/requirements.js';
import { NapPlugin } from './fixtures/plugins.js';
import { bullmqFleet, eventually, finishedCounts } from './helpers.js';
import { startRedisServer, type TestRedisServer } from './redis-server.js';

const redisHere = hasRedis('packages/bullmq/test/api-processes.test.ts');

let redis: TestRedisServer;
beforeAll(async () => {
  if (redisHere) redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});
const fleet = bullmqFleet(() => redis.connection);
const apiHost = (queue: string) => fleet.apiHost({ queue, plugins: [NapPlugin] });

describe.skipIf(!redisHere)('several API processes on one queue', () => {
  it('each sees the tasks the others queue, with their events, states and results', async () => {
    const queue = `apis-${randomUUID()}`;
    await fleet.worker({ queue, plugins: [NapPlugin] });
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

  it('one that started after a task was queued (it missed its queued update) records the start and end from the job', async () => {
    const queue = `apis-late-${randomUUID()}`;
    const one = await apiHost(queue);
    // No worker yet: the task waits in the queue while the second API process starts.
    const task = (await one.execute('nap', { ms: 20 })).tasks[0]!;
    const two = await apiHost(queue);
    expect(await two.tasks.get(task.id)).toBeUndefined();
    const startedByTwo: unknown[] = [];
    two.events.on('task:started', (record) => startedByTwo.push(record));
    const finishedByTwo = finishedCounts(two);

    await fleet.worker({ queue, plugins: [NapPlugin] });
    const done = await one.tasks.wait(task.id);
    const mirrored = await eventually(
      () => two.tasks.get(task.id),
      (r) => r?.state === 'succeeded',
    );
    // The whole record, though the start and end arrived as patches: the rest came from the task's job.
    expect(mirrored).toEqual(done);
    expect(startedByTwo).toEqual([
      expect.objectContaining({ id: task.id, pluginId: 'nap', input: { ms: 20 }, state: 'running' }),
    ]);
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
