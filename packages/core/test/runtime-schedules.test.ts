import {
  BackgroundTaskPlugin,
  createHost,
  type Host,
  InProcessRuntime,
  memoryStore,
  SYSTEM_USER,
  Task,
  type TaskStore,
} from '@plugboard/core';
import type {
  RuntimeEnvironment,
  RuntimeScheduleRequest,
  RuntimeScheduleState,
  RuntimeSchedules,
} from '@plugboard/core/spi';
import { FakeClock } from '@plugboard/testing';
import { afterEach, describe, expect, it } from 'vitest';

let release: (() => void) | undefined;

class SyncTask extends Task<Record<string, never>> {
  async run() {
    await new Promise<void>((resolve) => {
      release = resolve;
    });
    return { synced: true };
  }
}

class NightlySync extends BackgroundTaskPlugin({
  id: 'sync',
  name: 'Nightly sync',
  delaySeconds: 10,
  repeatSeconds: 60,
  tasks: [SyncTask],
}) {
  createTasks() {
    return new SyncTask({});
  }
}

class KeptSync extends BackgroundTaskPlugin({
  id: 'sync',
  name: 'Nightly sync',
  delaySeconds: 5,
  repeatSeconds: 30,
  replaceExistingTasks: false,
  tasks: [SyncTask],
}) {
  createTasks() {
    return new SyncTask({});
  }
}

/** An in-process runtime that keeps schedules the way a shared runtime would: it records them and fires on request. */
class SchedulingRuntime extends InProcessRuntime {
  readonly requests: RuntimeScheduleRequest[] = [];
  env: RuntimeEnvironment | undefined;
  readonly schedules: RuntimeSchedules;

  constructor(held: (request: RuntimeScheduleRequest) => RuntimeScheduleState) {
    super();
    this.schedules = {
      arm: async (request) => {
        this.requests.push(request);
        return held(request);
      },
    };
  }

  override async start(env: RuntimeEnvironment): Promise<void> {
    this.env = env;
    await super.start(env);
  }
}

const hosts: Host[] = [];
async function started(plugin: unknown, runtime: SchedulingRuntime, clock: FakeClock, store?: TaskStore) {
  const host = createHost({
    env: false,
    argv: [],
    plugins: { classes: [plugin as never] },
    runtime,
    clock,
    store,
  });
  hosts.push(host);
  await host.start();
  return host;
}
afterEach(async () => {
  release?.();
  release = undefined;
  await Promise.all(hosts.splice(0).map((h) => h.stop({ timeoutMs: 100 })));
});

describe('a runtime that keeps background-task schedules', () => {
  it('is asked to arm each schedule, and the host arms no timer of its own', async () => {
    const clock = new FakeClock(1000);
    const runtime = new SchedulingRuntime((r) => ({
      delaySeconds: r.delaySeconds,
      repeatSeconds: r.repeatSeconds,
      nextRunAt: 7777,
    }));
    const host = await started(NightlySync, runtime, clock);
    expect(runtime.requests).toEqual([
      {
        id: 'sync',
        pluginId: 'sync',
        delaySeconds: 10,
        repeatSeconds: 60,
        replaceExisting: true,
        firstRunAt: 11_000,
      },
    ]);
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(3_600_000);
    expect((await host.tasks.list()).items).toEqual([]);
    expect((await host.schedules.list())[0]).toMatchObject({
      id: 'sync',
      nextRunAt: 7777,
      runs: 0,
      lastRunAt: null,
      lastTaskIds: [],
      lastState: null,
    });
  });

  it('with replaceExistingTasks false, asks to keep the schedule and records the one the runtime holds', async () => {
    const store = memoryStore();
    const clock = new FakeClock(0);
    const kept: RuntimeScheduleState = { delaySeconds: 10, repeatSeconds: 60, nextRunAt: 50_000 };
    const first = await started(KeptSync, new SchedulingRuntime(() => kept), clock, store);
    expect((await first.schedules.list())[0]).toMatchObject({ repeatSeconds: 60, nextRunAt: 50_000 });
    await first.stop();

    const runtime = new SchedulingRuntime(() => kept);
    const second = await started(KeptSync, runtime, clock, store);
    // The store's next run is offered for a runtime that holds nothing (an emptied Redis, for example).
    expect(runtime.requests[0]).toMatchObject({ replaceExisting: false, firstRunAt: 50_000 });
    expect((await second.schedules.list())[0]).toMatchObject({ delaySeconds: 10, repeatSeconds: 60 });
  });

  it('runs a firing as the timer would, and skips one while the previous run is unfinished', async () => {
    const clock = new FakeClock(0);
    const runtime = new SchedulingRuntime((r) => ({ ...r, nextRunAt: 10_000 }));
    const host = await started(NightlySync, runtime, clock);
    const fired: string[][] = [];
    host.events.on('schedule:fired', (e) => fired.push([...e.taskIds]));

    await clock.advance(10_000);
    const afterFirst = await runtime.env!.fireSchedule('sync', 10_000);
    expect(afterFirst).toMatchObject({ runs: 1, lastRunAt: 10_000, nextRunAt: 70_000, lastState: 'queued' });
    expect(clock.pendingTimers).toBe(0);
    const [task] = (await host.tasks.list()).items;
    expect(task).toMatchObject({ scheduleId: 'sync', user: { id: SYSTEM_USER.id } });
    expect(fired).toEqual([[task!.id]]);

    await clock.advance(60_000);
    const skipped = await runtime.env!.fireSchedule('sync', 70_000);
    expect(skipped).toMatchObject({ runs: 1, nextRunAt: 130_000 });
    expect((await host.tasks.list()).items).toHaveLength(1);
    // Firings come from the runtime only: the host arms no timer of its own after a run or a skipped firing.
    expect(clock.pendingTimers).toBe(0);

    for (let i = 0; i < 100 && !release; i++) await new Promise((r) => setTimeout(r, 5));
    release!();
    await host.tasks.wait(task!.id);
    await clock.advance(60_000);
    expect(await runtime.env!.fireSchedule('sync', 130_000)).toMatchObject({ runs: 2, nextRunAt: 190_000 });
  });

  it('skips a firing while a run started by another process sharing the runtime is unfinished', async () => {
    const clock = new FakeClock(0);
    const store = memoryStore();
    const held = (r: RuntimeScheduleRequest) => ({ ...r, nextRunAt: 10_000 });
    const first = new SchedulingRuntime(held);
    const second = new SchedulingRuntime(held);
    const one = await started(NightlySync, first, clock, store);
    await started(NightlySync, second, clock, store);
    await clock.advance(10_000);
    await first.env!.fireSchedule('sync', 10_000);
    await clock.advance(60_000);
    expect(await second.env!.fireSchedule('sync', 70_000)).toMatchObject({ runs: 1, nextRunAt: 130_000 });
    expect((await one.tasks.list()).items).toHaveLength(1);
  });

  it('refuses a firing of a schedule this host never armed', async () => {
    const runtime = new SchedulingRuntime((r) => ({ ...r, nextRunAt: null }));
    await started(NightlySync, runtime, new FakeClock(0));
    await expect(runtime.env!.fireSchedule('nightly-backup', 0)).rejects.toMatchObject({
      code: 'PLUGBOARD_UNKNOWN_SCHEDULE',
      message:
        'No schedule has id `nightly-backup` on this host: is its background-task plugin installed and operational here?',
    });
  });
});

class QuickTask extends Task<Record<string, never>> {
  async run() {
    return { done: true };
  }
}

class FrequentCheck extends BackgroundTaskPlugin({
  id: 'check',
  name: 'Frequent check',
  delaySeconds: 10,
  repeatSeconds: 60,
  tasks: [QuickTask],
}) {
  createTasks() {
    return new QuickTask({});
  }
}

/** A runtime whose `enqueue` resolves only once the task has finished, as a fast remote worker may. */
class FinishFirstRuntime extends InProcessRuntime {
  override async start(env: RuntimeEnvironment): Promise<void> {
    await super.start(env);
    const enqueue = this.enqueue.bind(this);
    this.enqueue = async (record) => {
      const finished = new Promise<void>((resolve) => {
        const listener = (done: { id: string }) => {
          if (done.id !== record.id) return;
          env.events.off('task:finished', listener);
          resolve();
        };
        env.events.on('task:finished', listener);
      });
      await enqueue(record);
      await finished;
    };
  }
}

describe('scheduled runs whose tasks finish at once', () => {
  it('do not hold back the next firing, and record the last state', async () => {
    const clock = new FakeClock(0);
    const host = createHost({
      env: false,
      argv: [],
      plugins: { classes: [FrequentCheck] },
      runtime: new FinishFirstRuntime(),
      clock,
    });
    hosts.push(host);
    await host.start();
    const runs = async (count: number) => {
      for (let i = 0; i < 200; i++) {
        const [schedule] = await host.schedules.list();
        if (schedule?.runs === count && schedule.lastState === 'succeeded') return schedule;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return (await host.schedules.list())[0];
    };
    await clock.advance(10_000);
    expect(await runs(1)).toMatchObject({ runs: 1, lastState: 'succeeded' });
    await clock.advance(60_000);
    expect(await runs(2)).toMatchObject({ runs: 2, lastState: 'succeeded' });
    expect((await host.tasks.list()).items.map((t) => t.state)).toEqual(['succeeded', 'succeeded']);
  });
});
