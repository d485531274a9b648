import { randomUUID } from 'node:crypto';
import {
  BackgroundTaskPlugin,
  type BackgroundTaskPluginDefinition,
  type Host,
  type PluginClass,
  type ScheduleEvent,
  SYSTEM_USER,
  Task,
  type TaskContext,
  type TaskRecord,
} from '@plugboard/core';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hasRedis } from '../../../test/requirements.js';
import { bullmqFleet, eventually, sleep } from './helpers.js';
import { startRedisServer, type TestRedisServer } from './redis-server.js';

const redisHere = hasRedis('packages/bullmq/test/schedules.test.ts');

let redis: TestRedisServer;
const queues: Queue[] = [];

beforeAll(async () => {
  if (redisHere) redis = await startRedisServer();
});
afterEach(async () => {
  await Promise.all(queues.splice(0).map((q) => q.close()));
});
afterAll(async () => {
  await redis?.stop();
});

class SweepTask extends Task<{ ms: number }> {
  async run(ctx: TaskContext) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, this.input.ms);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(ctx.signal.reason);
      });
    });
    return { swept: true };
  }
}

/** A background-task plugin `sweep` with the given schedule; its runs take `ms`. */
function sweepPlugin(schedule: Omit<BackgroundTaskPluginDefinition, 'id' | 'name'>, ms = 0) {
  return class Sweep extends BackgroundTaskPlugin({
    id: 'sweep',
    name: 'Sweep',
    tasks: [SweepTask],
    ...schedule,
  }) {
    createTasks() {
      return new SweepTask({ ms });
    }
  };
}

const fleet = bullmqFleet(() => redis.connection);
const apiHost = (queue: string, plugin: unknown) =>
  fleet.apiHost({ queue, plugins: [plugin as PluginClass] });
const worker = (queue: string, plugin: unknown) => fleet.worker({ queue, plugins: [plugin as PluginClass] });

/** The job schedulers BullMQ holds for the queue's schedules. */
async function jobSchedulers(queue: string) {
  const schedules = new Queue(`${queue}.schedules`, { connection: redis.connection });
  queues.push(schedules);
  return schedules.getJobSchedulers();
}

describe.skipIf(!redisHere)('background-task schedules on BullMQ job schedulers', () => {
  it('two API processes share one schedule: each due time fires once, runs never overlap, both see every run', async () => {
    const queue = `schedules-${randomUUID()}`;
    // Due every 250 ms, but each run takes 600 ms: firings that come while a run is going are skipped.
    const Sweep = sweepPlugin({ delaySeconds: 0.1, repeatSeconds: 0.25 }, 600);
    await worker(queue, Sweep);
    const one = await apiHost(queue, Sweep);
    const two = await apiHost(queue, Sweep);
    const fired: Record<string, ScheduleEvent[]> = { one: [], two: [] };
    one.events.on('schedule:fired', (e) => fired.one!.push(e));
    two.events.on('schedule:fired', (e) => fired.two!.push(e));

    await sleep(2200);
    const runs = async (host: Host) => (await host.tasks.list({ plugin: 'sweep' })).items;
    const settled = (records: readonly TaskRecord[]) =>
      records.length >= 2 && records.every((r) => r.state === 'succeeded');
    const seenByOne = await eventually(() => runs(one), settled);
    const seenByTwo = await eventually(
      () => runs(two),
      (r) => r.length === seenByOne.length && settled(r),
    );

    expect(seenByOne.map((r) => r.id)).toEqual(seenByTwo.map((r) => r.id));
    const ordered = [...seenByOne].sort((a, b) => a.startedAt! - b.startedAt!);
    for (let i = 1; i < ordered.length; i++) {
      expect(ordered[i]!.startedAt).toBeGreaterThanOrEqual(ordered[i - 1]!.finishedAt!);
    }
    expect(ordered.length).toBeLessThanOrEqual(4);
    expect(ordered.every((r) => r.scheduleId === 'sweep' && r.user.id === SYSTEM_USER.id)).toBe(true);

    const [scheduleOne] = await one.schedules.list();
    const [scheduleTwo] = await eventually(
      () => two.schedules.list(),
      ([s]) => s?.runs === scheduleOne?.runs,
    );
    expect(scheduleOne).toMatchObject({ runs: ordered.length, repeatSeconds: 0.25 });
    expect(scheduleTwo).toMatchObject({ runs: ordered.length, lastTaskIds: scheduleOne!.lastTaskIds });
    expect(fired.one!.flatMap((e) => e.taskIds)).toEqual(ordered.map((r) => r.id));
    expect(fired.two!.flatMap((e) => e.taskIds)).toEqual(ordered.map((r) => r.id));
    expect(await jobSchedulers(queue)).toHaveLength(1);
  });

  it('a cron schedule is a job scheduler with its pattern: two API processes run each due second once', async () => {
    const queue = `cron-${randomUUID()}`;
    const Sweep = sweepPlugin({ cron: '* * * * * *', timeZone: 'Europe/Berlin' });
    await worker(queue, Sweep);
    const one = await apiHost(queue, Sweep);
    const two = await apiHost(queue, Sweep);
    const [armed] = await one.schedules.list();
    expect(armed).toMatchObject({ cron: '* * * * * *', timeZone: 'Europe/Berlin', repeatSeconds: 0 });
    expect(armed!.nextRunAt! - Date.now()).toBeLessThanOrEqual(1000);
    expect(await jobSchedulers(queue)).toMatchObject([
      { key: 'sweep', pattern: '* * * * * *', tz: 'Europe/Berlin' },
    ]);

    await sleep(3500);
    const records = await eventually(
      async () => (await one.tasks.list({ plugin: 'sweep' })).items,
      (items) => items.length >= 2 && items.every((r) => r.state === 'succeeded'),
    );
    // One run per due second across both processes: never two runs created within the same second.
    const seconds = records.map((r) => Math.floor(r.createdAt / 1000));
    expect(new Set(seconds).size).toBe(seconds.length);
    expect(records.length).toBeLessThanOrEqual(5);
    const [after] = await one.schedules.list();
    expect(after!.cron).toBe('* * * * * *');
    expect((await two.schedules.list())[0]!.cron).toBe('* * * * * *');
  });

  it('a restart keeps a cron job scheduler with replaceExistingTasks false, and replaces it with true', async () => {
    const queue = `cron-restart-${randomUUID()}`;
    const first = await apiHost(queue, sweepPlugin({ cron: '0 0 3 * * *', timeZone: 'Asia/Tokyo' }));
    const [armed] = await first.schedules.list();
    await first.stop();
    const kept = await apiHost(
      queue,
      sweepPlugin({ cron: '0 0 4 * * *', timeZone: 'UTC', replaceExistingTasks: false }),
    );
    expect((await kept.schedules.list())[0]).toMatchObject({
      cron: '0 0 3 * * *',
      timeZone: 'Asia/Tokyo',
      nextRunAt: armed!.nextRunAt,
    });
    await kept.stop();
    const replaced = await apiHost(queue, sweepPlugin({ cron: '0 0 4 * * *' }));
    expect((await replaced.schedules.list())[0]).toMatchObject({ cron: '0 0 4 * * *', timeZone: 'UTC' });
    expect(await jobSchedulers(queue)).toMatchObject([{ key: 'sweep', pattern: '0 0 4 * * *', tz: 'UTC' }]);
  });

  it('a restart keeps the schedule with replaceExistingTasks false, and replaces it (from now) with true', async () => {
    const queue = `restart-${randomUUID()}`;
    const first = await apiHost(queue, sweepPlugin({ delaySeconds: 60, repeatSeconds: 3600 }));
    const [armed] = await first.schedules.list();
    expect(armed!.nextRunAt! - Date.now()).toBeGreaterThan(55_000);
    await first.stop();

    const kept = await apiHost(
      queue,
      sweepPlugin({ delaySeconds: 5, repeatSeconds: 600, replaceExistingTasks: false }),
    );
    expect((await kept.schedules.list())[0]).toMatchObject({
      delaySeconds: 60,
      repeatSeconds: 3600,
      nextRunAt: armed!.nextRunAt,
    });
    expect(await jobSchedulers(queue)).toMatchObject([{ key: 'sweep', every: 3_600_000 }]);
    await kept.stop();

    const replaced = await apiHost(queue, sweepPlugin({ delaySeconds: 120, repeatSeconds: 60 }));
    const [now] = await replaced.schedules.list();
    expect(now).toMatchObject({ delaySeconds: 120, repeatSeconds: 60 });
    expect(now!.nextRunAt! - Date.now()).toBeGreaterThan(115_000);
    expect(await jobSchedulers(queue)).toMatchObject([{ key: 'sweep', every: 60_000 }]);
  });

  it('a schedule that runs once fires once for two API processes, and a restart that keeps it does not run it again', async () => {
    const queue = `once-${randomUUID()}`;
    const Once = sweepPlugin({ delaySeconds: 0.1, repeatSeconds: 0, replaceExistingTasks: false });
    await worker(queue, Once);
    const one = await apiHost(queue, Once);
    await apiHost(queue, Once);
    const ran = await eventually(
      async () => (await one.tasks.list({ plugin: 'sweep' })).items,
      (items) => items.length === 1 && items[0]!.state === 'succeeded',
    );
    await sleep(400);
    expect((await one.tasks.list({ plugin: 'sweep' })).items).toHaveLength(1);
    expect((await one.schedules.list())[0]).toMatchObject({ runs: 1, nextRunAt: null });

    const restarted = await apiHost(queue, Once);
    expect((await restarted.schedules.list())[0]).toMatchObject({ nextRunAt: null });
    await sleep(400);
    expect((await restarted.tasks.list({ plugin: 'sweep' })).items).toEqual([]);
    expect(ran[0]!.scheduleId).toBe('sweep');
  });
});
