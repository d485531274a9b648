import { randomUUID } from 'node:crypto';
import { ActionPlugin, Task, type TaskContext, type TaskRecord, Type } from '@plugboard/core';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRedis } from '../../../test/requirements.js';
import { bullmqFleet, eventually } from './helpers.js';
import { startRedisServer, type TestRedisServer } from './redis-server.js';

// Per-plugin limits that hold across every worker of a queue, and child tasks started on a worker.

const redisHere = hasRedis('packages/bullmq/test/flow-control.test.ts');

let redis: TestRedisServer;
beforeAll(async () => {
  if (redisHere) redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});
const fleet = bullmqFleet(() => redis.connection, 1000);

class Sleep extends Task<{ ms: number; n?: number }> {
  async run(ctx: TaskContext) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, this.input.ms);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(ctx.signal.reason);
      });
    });
    return this.input.n ?? 0;
  }
}

class Batch extends Task<{ parts: number; ms: number }> {
  async run(ctx: TaskContext) {
    const children = [];
    for (let n = 1; n <= this.input.parts; n++)
      children.push(await ctx.spawn(new Sleep({ ms: this.input.ms, n })));
    const ends = await Promise.all(children.map((child) => child.wait()));
    return ends.reduce((sum, end) => sum + (end.result as number), 0);
  }
}

const args = Type.Object({ count: Type.Integer({ minimum: 1 }), ms: Type.Integer({ minimum: 0 }) });

class Limited extends ActionPlugin({
  id: 'limited',
  name: 'Limited',
  args,
  tasks: [Sleep],
  limits: { concurrency: 2 },
}) {
  createTasks(a: { count: number; ms: number }) {
    return Array.from({ length: a.count }, () => new Sleep({ ms: a.ms }));
  }
}

class Free extends ActionPlugin({ id: 'free', name: 'Free', args, tasks: [Sleep] }) {
  createTasks(a: { count: number; ms: number }) {
    return Array.from({ length: a.count }, () => new Sleep({ ms: a.ms }));
  }
}

class Batches extends ActionPlugin({
  id: 'batches',
  name: 'Batches',
  args: Type.Object({ parts: Type.Integer({ minimum: 1 }), ms: Type.Integer({ minimum: 0 }) }),
  tasks: [Batch, Sleep],
}) {
  createTasks(a: { parts: number; ms: number }) {
    return new Batch(a);
  }
}

const plugins = [Limited, Free, Batches];

function mostAtOnce(records: readonly TaskRecord[]): number {
  const events = records.flatMap((r) => [
    { at: r.startedAt!, step: 1 },
    { at: r.finishedAt!, step: -1 },
  ]);
  events.sort((a, b) => a.at - b.at || a.step - b.step);
  let now = 0;
  let most = 0;
  for (const event of events) {
    now += event.step;
    most = Math.max(most, now);
  }
  return most;
}

describe.skipIf(!redisHere)('per-plugin limits on BullMQ', () => {
  it('a limit of 2 across 3 workers never has 3 tasks of the plugin running, by the store’s timestamps', async () => {
    const queue = `limits-${randomUUID()}`;
    for (let i = 0; i < 3; i++) await fleet.worker({ queue, plugins, concurrency: 4 });
    const api = await fleet.apiHost({ queue, plugins });
    const { tasks } = await api.execute('limited', { count: 9, ms: 60 });
    const ends = await Promise.all(tasks.map((t) => api.tasks.wait(t.id)));
    expect(ends.every((r) => r.state === 'succeeded')).toBe(true);
    expect(mostAtOnce(ends)).toBeLessThanOrEqual(2);
    expect(ends.every((r) => (r.waitingReason ?? null) === null)).toBe(true);
  }, 60_000);

  it('a held-back task says it waits for its plugin; other plugins’ tasks run meanwhile', async () => {
    const queue = `limits-share-${randomUUID()}`;
    await fleet.worker({ queue, plugins, concurrency: 4 });
    const api = await fleet.apiHost({ queue, plugins });
    const limited = (await api.execute('limited', { count: 6, ms: 300 })).tasks;
    const waiting = await eventually(
      () => api.tasks.get(limited[5]!.id),
      (r) => r?.waitingReason === 'waiting for a slot of plugin limited',
    );
    expect(waiting?.state).toBe('queued');
    const free = (await api.execute('free', { count: 1, ms: 0 })).tasks[0]!;
    const freeEnd = await api.tasks.wait(free.id);
    expect(freeEnd.state).toBe('succeeded');
    const limitedEnds = await Promise.all(limited.map((t) => api.tasks.wait(t.id)));
    // The free task did not wait for the limited plugin's backlog.
    expect(limitedEnds.some((r) => r.startedAt! > freeEnd.startedAt!)).toBe(true);
  }, 60_000);
});

describe.skipIf(!redisHere)('a held-back task on BullMQ', () => {
  it('no longer says it waits for a slot once it runs, and runs once a slot is free', async () => {
    const queue = `limits-clear-${randomUUID()}`;
    await fleet.worker({ queue, plugins, concurrency: 4 });
    const api = await fleet.apiHost({ queue, plugins });
    const tasks = (await api.execute('limited', { count: 3, ms: 600 })).tasks;
    const third = tasks[2]!;
    const held = await eventually(
      () => api.tasks.get(third.id),
      (r) => r?.waitingReason === 'waiting for a slot of plugin limited',
    );
    expect(held?.state).toBe('queued');
    const running = await eventually(
      () => api.tasks.get(third.id),
      (r) => r?.state === 'running',
    );
    expect(running?.waitingReason ?? null).toBeNull();
    const ends = await Promise.all(tasks.map((t) => api.tasks.wait(t.id)));
    expect(ends.map((r) => r.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    // The third started only after one of the first two had ended.
    expect(ends[2]!.startedAt!).toBeGreaterThanOrEqual(Math.min(ends[0]!.finishedAt!, ends[1]!.finishedAt!));
  }, 60_000);
});

describe.skipIf(!redisHere)('a worker asking for a slot of a limited plugin', () => {
  it('asks again after a wait that grows with each refusal, not in a busy loop', async () => {
    const queue = `limits-backoff-${randomUUID()}`;
    await fleet.worker({ queue, plugins, concurrency: 4 });
    const api = await fleet.apiHost({ queue, plugins });
    // Two tasks of 2 s hold both slots; the third is refused until one ends.
    const tasks = (await api.execute('limited', { count: 3, ms: 2000 })).tasks;
    const third = tasks[2]!;
    // How often the worker has been refused a slot for the third task, as its BullMQ job records it.
    const jobs = new Queue(queue, { connection: redis.connection });
    const seen: number[] = [];
    try {
      for (;;) {
        const record = await api.tasks.get(third.id);
        if (record?.state !== 'queued') break;
        const job = await jobs.getJob(third.id);
        const data = job?.data as
          | { slotRefusals?: unknown; record?: { waitingReason?: unknown } }
          | undefined;
        // Counted while the job says it waits: once granted, the worker resets the count with the reason, and the
        // API may still say `queued` for a moment until the task's start reaches it.
        if (typeof data?.slotRefusals === 'number' && data.record?.waitingReason)
          seen.push(data.slotRefusals);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await jobs.close();
    }
    // Waits of 25, 50, 100, 200, 400 ms... (up to 1 s) over the ~2 s the slots are held: a handful of refusals,
    // each counted, rather than one after another as fast as Redis answers.
    const most = Math.max(0, ...seen);
    expect(most).toBeGreaterThanOrEqual(3);
    expect(most).toBeLessThanOrEqual(15);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    const ends = await Promise.all(tasks.map((t) => api.tasks.wait(t.id)));
    expect(ends.map((r) => r.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  }, 60_000);
});

describe.skipIf(!redisHere)('child tasks on BullMQ', () => {
  it('a task on a worker starts children on the queue and waits for them; the API lists them', async () => {
    const queue = `children-${randomUUID()}`;
    await fleet.worker({ queue, plugins, concurrency: 4 });
    await fleet.worker({ queue, plugins, concurrency: 4 });
    const api = await fleet.apiHost({ queue, plugins });
    const parent = (await api.execute('batches', { parts: 3, ms: 20 }, { user: { id: 'ann' } })).tasks[0]!;
    const end = await api.tasks.wait(parent.id);
    expect(end).toMatchObject({ state: 'succeeded', result: 6 });
    const children = await eventually(
      () => api.tasks.children(parent.id),
      (list) => list.length === 3 && list.every((c) => c.state === 'succeeded'),
    );
    expect(children.map((c) => [c.parentId, c.user.id, c.state])).toEqual(
      Array(3).fill([parent.id, 'ann', 'succeeded']),
    );
  }, 60_000);

  it('cancelling a parent on the API cancels its children on the queue', async () => {
    const queue = `children-cancel-${randomUUID()}`;
    await fleet.worker({ queue, plugins, concurrency: 8 });
    const api = await fleet.apiHost({ queue, plugins });
    const parent = (await api.execute('batches', { parts: 2, ms: 30_000 })).tasks[0]!;
    await eventually(
      () => api.tasks.children(parent.id),
      (list) => list.length === 2 && list.every((c) => c.state === 'running'),
      20_000,
    );
    await api.tasks.cancel(parent.id);
    const children = await eventually(
      () => api.tasks.children(parent.id),
      (list) => list.every((c) => c.state === 'cancelled'),
      20_000,
    );
    expect(children.map((c) => c.state)).toEqual(['cancelled', 'cancelled']);
  }, 60_000);
});
