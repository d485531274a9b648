import {
  BackgroundTaskPlugin,
  type BackgroundTaskPluginDefinition,
  createHost,
  type Host,
  memoryStore,
  SYSTEM_USER,
  Task,
  type TaskContext,
  type TaskStore,
} from '@plugboard/core';
import { FakeClock } from '@plugboard/testing';
import { afterEach, describe, expect, it } from 'vitest';

const hosts: Host[] = [];
async function started(classes: unknown[], clock: FakeClock, store: TaskStore = memoryStore()) {
  const host = createHost({ env: false, argv: [], plugins: { classes: classes as never }, clock, store });
  hosts.push(host);
  await host.start();
  return host;
}
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop({ timeoutMs: 100 })));
});

let runs: Array<{ at: number; user: string; attempt: number }> = [];
let failNext = false;
let holdRuns: Promise<void> | undefined;

class ReindexTask extends Task<{ at: number }> {
  async run(ctx: TaskContext) {
    runs.push({ at: this.input.at, user: ctx.user.id, attempt: ctx.attempt });
    if (holdRuns) await holdRuns;
    if (failNext) {
      failNext = false;
      throw new Error('index locked');
    }
    return { indexed: true };
  }
}

function reindexPlugin(options: Omit<BackgroundTaskPluginDefinition, 'id' | 'name'> = {}, clock?: FakeClock) {
  return class NightlyReindex extends BackgroundTaskPlugin({
    id: 'reindex',
    name: 'Nightly re-index',
    tasks: [ReindexTask],
    ...options,
  }) {
    createTasks() {
      return new ReindexTask({ at: clock?.now() ?? 0 });
    }
  };
}

async function finishedRuns(host: Host) {
  const page = await host.tasks.list({ plugin: 'reindex', limit: 500 });
  return page.items.filter((t) => t.state !== 'queued' && t.state !== 'running');
}

afterEach(() => {
  runs = [];
  failNext = false;
  holdRuns = undefined;
});

describe('background-task plugins', () => {
  it('run first after delaySeconds (default 30) and once when repeatSeconds is 0', async () => {
    const clock = new FakeClock(0);
    const host = await started([reindexPlugin({}, clock)], clock);
    expect(host.plugins.get('reindex')?.schedule).toEqual({
      delaySeconds: 30,
      repeatSeconds: 0,
      replaceExistingTasks: true,
      cron: null,
      timeZone: null,
    });
    const [schedule] = await host.schedules.list();
    expect(schedule).toMatchObject({
      id: 'reindex',
      nextRunAt: 30_000,
      runs: 0,
      lastRunAt: null,
      lastTaskIds: [],
      lastState: null,
    });
    await clock.advance(29_999);
    expect(runs).toEqual([]);
    await clock.advance(1);
    expect(runs).toEqual([{ at: 30_000, user: SYSTEM_USER.id, attempt: 1 }]);
    await clock.advance(600_000);
    expect(runs).toHaveLength(1);
    const [after] = await host.schedules.list();
    expect(after).toMatchObject({ runs: 1, lastRunAt: 30_000, nextRunAt: null, lastState: 'succeeded' });
    const [record] = await finishedRuns(host);
    expect(record).toMatchObject({
      scheduleId: 'reindex',
      user: { id: 'plugboard:system' },
      state: 'succeeded',
    });
  });

  it('repeat every repeatSeconds, and keep repeating after a failed run', async () => {
    const clock = new FakeClock(0);
    const host = await started([reindexPlugin({ delaySeconds: 10, repeatSeconds: 60 }, clock)], clock);
    failNext = true;
    await clock.advance(10_000);
    await clock.advance(60_000);
    await clock.advance(60_000);
    expect(runs.map((r) => r.at)).toEqual([10_000, 70_000, 130_000]);
    const states = (await finishedRuns(host)).map((r) => r.state);
    expect(states).toEqual(['succeeded', 'succeeded', 'failed']);
    expect((await host.schedules.list())[0]).toMatchObject({ runs: 3, nextRunAt: 190_000 });
  });

  it('replace earlier schedules on start by default, honouring the new delay and repeat', async () => {
    const store = memoryStore();
    const clock = new FakeClock(0);
    const first = await started(
      [reindexPlugin({ delaySeconds: 10, repeatSeconds: 3600 }, clock)],
      clock,
      store,
    );
    await clock.advance(10_000);
    await first.stop();
    await clock.advance(500_000 - clock.now());
    const second = await started(
      [reindexPlugin({ delaySeconds: 5, repeatSeconds: 60 }, clock)],
      clock,
      store,
    );
    expect((await second.schedules.list())[0]).toMatchObject({
      nextRunAt: 505_000,
      repeatSeconds: 60,
      runs: 1,
      lastRunAt: 10_000,
      lastTaskIds: [expect.any(String)],
      lastState: 'succeeded',
    });
    await clock.advance(5000);
    await clock.advance(60_000);
    expect(runs.map((r) => r.at)).toEqual([10_000, 505_000, 565_000]);
  });

  it('keep an existing schedule when replaceExistingTasks is false', async () => {
    const store = memoryStore();
    const clock = new FakeClock(0);
    const first = await started(
      [reindexPlugin({ delaySeconds: 10, repeatSeconds: 100 }, clock)],
      clock,
      store,
    );
    await clock.advance(10_000);
    await first.stop();
    await clock.advance(50_000 - clock.now());
    const second = await started(
      [reindexPlugin({ delaySeconds: 1, repeatSeconds: 5, replaceExistingTasks: false }, clock)],
      clock,
      store,
    );
    expect((await second.schedules.list())[0]).toMatchObject({
      nextRunAt: 110_000,
      repeatSeconds: 100,
      delaySeconds: 10,
    });
    await clock.advance(60_000);
    expect(runs.map((r) => r.at)).toEqual([10_000, 110_000]);
  });

  it('run at once, out of cadence, when triggered, and refuse a trigger while a run is in progress', async () => {
    const clock = new FakeClock(0);
    const host = await started([reindexPlugin({ delaySeconds: 1000, repeatSeconds: 1000 }, clock)], clock);
    let release!: () => void;
    holdRuns = new Promise((resolve) => {
      release = resolve;
    });
    const { tasks } = await host.schedules.trigger('reindex');
    expect(tasks).toHaveLength(1);
    await clock.advance(0);
    await expect(host.schedules.trigger('reindex')).rejects.toMatchObject({
      code: 'PLUGBOARD_SCHEDULE_RUNNING',
      message: 'Schedule `reindex` has a run in progress; wait for it to finish or cancel its tasks.',
      status: 409,
      details: { taskIds: [tasks[0]!.id] },
    });
    release();
    await host.tasks.wait(tasks[0]!.id);
    await clock.advance(0);
    const again = await host.schedules.trigger('reindex');
    await host.tasks.wait(again.tasks[0]!.id);
    expect((await host.schedules.list())[0]).toMatchObject({ runs: 2, nextRunAt: 1_000_000 });
    await expect(host.schedules.trigger('nope')).rejects.toMatchObject({
      code: 'PLUGBOARD_UNKNOWN_SCHEDULE',
      status: 404,
    });
  });

  it('skip a firing while the previous run is still going, keeping the cadence', async () => {
    const clock = new FakeClock(0);
    const host = await started([reindexPlugin({ delaySeconds: 1, repeatSeconds: 10 }, clock)], clock);
    let release!: () => void;
    holdRuns = new Promise((resolve) => {
      release = resolve;
    });
    await clock.advance(1000);
    await clock.advance(10_000);
    expect(runs.map((r) => r.at)).toEqual([1000]);
    release();
    holdRuns = undefined;
    await sleepReal(10);
    await clock.advance(10_000);
    expect(runs.map((r) => r.at)).toEqual([1000, 21_000]);
    expect(host.state).toBe('started');
  });

  it('share one timer among all schedules, so a host with many schedules stays idle', async () => {
    const clock = new FakeClock(0);
    const plugins = Array.from({ length: 200 }, (_, i) => {
      return class extends BackgroundTaskPlugin({
        id: `bg-${i}`,
        name: `bg ${i}`,
        delaySeconds: 60 + i,
        tasks: [ReindexTask],
      }) {
        createTasks() {
          return new ReindexTask({ at: clock.now() });
        }
      };
    });
    const host = await started(plugins, clock);
    expect((await host.schedules.list()).length).toBe(200);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(60_000);
    expect(runs).toHaveLength(1);
    expect(clock.pendingTimers).toBe(1);
  });
});

describe('a host stopping while a schedule fires', () => {
  it('records the firing under way in its schedule before it stops, and skips firings due after', async () => {
    const clock = new FakeClock(0);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let creating = 0;
    class SlowToCreate extends BackgroundTaskPlugin({
      id: 'reindex',
      name: 'Nightly re-index',
      tasks: [ReindexTask],
      delaySeconds: 10,
      repeatSeconds: 60,
    }) {
      async createTasks() {
        creating++;
        await gate;
        return new ReindexTask({ at: clock.now() });
      }
    }
    const store = memoryStore();
    const host = await started([SlowToCreate], clock, store);
    await clock.advance(10_000);
    expect(creating).toBe(1);
    const stopping = host.stop({ timeoutMs: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    await stopping;
    const schedule = await store.getSchedule('reindex');
    expect(schedule).toMatchObject({ runs: 1, lastRunAt: 10_000, nextRunAt: 70_000 });
    expect(schedule?.lastState).not.toBe('failed');
    expect(schedule?.lastTaskIds).toHaveLength(1);
    expect(await store.getTask(schedule!.lastTaskIds[0]!)).toMatchObject({ scheduleId: 'reindex' });
    await clock.advance(60_000);
    expect(creating).toBe(1);
  });
});

describe('background-task plugins that cannot run when due', () => {
  it('after a crash, adopt the requeued tasks of the last run as the run in progress: no firing overlaps them', async () => {
    class SafeReindex extends ReindexTask {
      static override retrySafe = true;
    }
    const plugin = class extends BackgroundTaskPlugin({
      id: 'reindex',
      name: 'Nightly re-index',
      delaySeconds: 10,
      repeatSeconds: 10,
      tasks: [SafeReindex],
    }) {
      createTasks() {
        return new SafeReindex({ at: clock.now() });
      }
    };
    const store = memoryStore();
    const clock = new FakeClock(0);
    holdRuns = new Promise(() => {});
    await started([plugin], clock, store);
    await clock.advance(10_000);
    const [held] = (await store.getSchedule('reindex'))!.lastTaskIds;
    expect((await store.getTask(held!))?.state).toBe('running');
    // The first process is gone without stopping (its task left running); the next one starts on the same store.
    const second = await started([plugin], clock, store);
    expect((await second.tasks.get(held!))?.state).toMatch(/^(queued|running)$/);
    await clock.advance(10_000);
    await clock.advance(10_000);
    expect((await second.schedules.list())[0]).toMatchObject({ runs: 1, lastTaskIds: [held] });
    await expect(second.schedules.trigger('reindex')).rejects.toMatchObject({
      code: 'PLUGBOARD_SCHEDULE_RUNNING',
      details: { taskIds: [held] },
    });
  });

  it('records the state a held run ends in once its task ends, and leaves the record alone for other tasks', async () => {
    const clock = new FakeClock(0);
    const host = await started([reindexPlugin({ delaySeconds: 10, repeatSeconds: 100 }, clock)], clock);
    let release!: () => void;
    holdRuns = new Promise((resolve) => {
      release = resolve;
    });
    failNext = true;
    await clock.advance(10_000);
    const [held] = (await host.schedules.list())[0]!.lastTaskIds;
    expect((await host.schedules.list())[0]).toMatchObject({ runs: 1, lastState: 'queued' });
    release();
    expect(await host.tasks.wait(held!)).toMatchObject({ state: 'failed' });
    await clock.advance(0);
    expect((await host.schedules.list())[0]).toMatchObject({ runs: 1, lastState: 'failed' });
    // A task of the same plugin started by hand is not the schedule's run.
    const { tasks } = await host.execute('reindex', {});
    await host.tasks.wait(tasks[0]!.id);
    await clock.advance(0);
    expect((await host.schedules.list())[0]).toMatchObject({ lastState: 'failed', lastTaskIds: [held] });
    // A trigger once the held run ended is accepted.
    const again = await host.schedules.trigger('reindex');
    await host.tasks.wait(again.tasks[0]!.id);
    await clock.advance(0);
    expect((await host.schedules.list())[0]).toMatchObject({ runs: 2, lastState: 'succeeded' });
  });

  it('fire no more once the host stopped', async () => {
    const clock = new FakeClock(0);
    const host = await started([reindexPlugin({ delaySeconds: 10, repeatSeconds: 10 }, clock)], clock);
    await host.stop();
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(100_000);
    expect(runs).toEqual([]);
  });

  it('a disabled plugin’s schedule is not run when due nor on trigger, with a reason, and runs again once enabled', async () => {
    const clock = new FakeClock(0);
    const host = await started([reindexPlugin({ delaySeconds: 10, repeatSeconds: 10 }, clock)], clock);
    const errors: Error[] = [];
    host.events.on('error', (error) => errors.push(error));
    await host.plugins.disable('reindex');
    const reason = 'Schedule `reindex` belongs to plugin `reindex`, which is disabled';
    await expect(host.schedules.trigger('reindex')).rejects.toMatchObject({
      code: 'PLUGBOARD_PLUGIN_NOT_OPERATIONAL',
      message: expect.stringContaining(`${reason}: An administrator disabled this plugin`),
    });
    await clock.advance(10_000);
    expect(runs).toEqual([]);
    // The firing is reported, not run, and the cadence goes on.
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringMatching(
        /^Schedule `reindex` belongs to plugin `reindex`, which is disabled: An administrator disabled this plugin; enable it to run it again\.$/,
      ),
    ]);
    await host.plugins.enable('reindex');
    const { tasks } = await host.schedules.trigger('reindex');
    await host.tasks.wait(tasks[0]!.id);
    expect(runs).toHaveLength(1);
  });

  it('a schedule whose plugin is no longer installed cannot be triggered, and says so', async () => {
    const store = memoryStore();
    const clock = new FakeClock(0);
    const first = await started([reindexPlugin({ delaySeconds: 10 }, clock)], clock, store);
    await first.stop();
    const second = await started([], clock, store);
    await expect(second.schedules.trigger('reindex')).rejects.toMatchObject({
      code: 'PLUGBOARD_PLUGIN_NOT_OPERATIONAL',
      message: 'Schedule `reindex` belongs to plugin `reindex`, which is not installed.',
    });
    await expect(second.schedules.trigger('nope')).rejects.toMatchObject({
      code: 'PLUGBOARD_UNKNOWN_SCHEDULE',
      message: 'No schedule has id `nope`; list them with host.schedules.list().',
    });
  });

  it('a scheduled run whose createTasks throws is recorded failed and reported, and the cadence goes on', async () => {
    const clock = new FakeClock(0);
    let throwing = true;
    class Flaky extends BackgroundTaskPlugin({
      id: 'flaky',
      name: 'Flaky',
      delaySeconds: 10,
      repeatSeconds: 60,
      tasks: [ReindexTask],
    }) {
      createTasks() {
        if (throwing) throw new Error('source offline');
        return new ReindexTask({ at: clock.now() });
      }
    }
    const host = await started([Flaky], clock);
    const errors: string[] = [];
    host.events.on('error', (error) => errors.push(error.message));
    await clock.advance(10_000);
    expect(errors).toEqual([expect.stringContaining('source offline')]);
    expect((await host.schedules.list())[0]).toMatchObject({
      runs: 1,
      lastRunAt: 10_000,
      lastTaskIds: [],
      lastState: 'failed',
      nextRunAt: 70_000,
    });
    // A trigger that fails throws to its caller instead, and leaves the cadence alone.
    await expect(host.schedules.trigger('flaky')).rejects.toThrow('source offline');
    expect(errors).toHaveLength(1);
    expect((await host.schedules.list())[0]).toMatchObject({
      runs: 2,
      lastState: 'failed',
      nextRunAt: 70_000,
    });
    throwing = false;
    await clock.advance(60_000);
    expect(runs.map((r) => r.at)).toEqual([70_000]);
  });

  it('a scheduled run that creates no task is recorded succeeded and does not hold back the next one', async () => {
    const clock = new FakeClock(0);
    class Idle extends BackgroundTaskPlugin({
      id: 'idle',
      name: 'Idle',
      delaySeconds: 10,
      repeatSeconds: 10,
      tasks: [ReindexTask],
    }) {
      createTasks() {
        return [];
      }
    }
    const host = await started([Idle], clock);
    const errors: unknown[] = [];
    host.events.on('error', (error) => errors.push(error));
    await clock.advance(10_000);
    await clock.advance(10_000);
    expect((await host.schedules.list())[0]).toMatchObject({
      runs: 2,
      lastRunAt: 20_000,
      lastTaskIds: [],
      lastState: 'succeeded',
      nextRunAt: 30_000,
    });
    expect((await host.schedules.trigger('idle')).tasks).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('a firing that comes late keeps the cadence, skipping the periods it missed', async () => {
    const clock = new FakeClock(0);
    const host = await started([reindexPlugin({ delaySeconds: 10, repeatSeconds: 10 }, clock)], clock);
    let release!: () => void;
    holdRuns = new Promise((resolve) => {
      release = resolve;
    });
    await clock.advance(10_000);
    // The clock jumps past several periods at once (a suspended laptop, a stalled event loop).
    await clock.advance(35_000);
    expect(runs.map((r) => r.at)).toEqual([10_000]);
    expect((await host.schedules.list())[0]).toMatchObject({ runs: 1, nextRunAt: 50_000 });
    release();
    holdRuns = undefined;
    await host.tasks.wait((await host.schedules.list())[0]!.lastTaskIds[0]!);
    await clock.advance(5000);
    expect(runs.map((r) => r.at)).toEqual([10_000, 50_000]);
    expect((await host.schedules.list())[0]).toMatchObject({ runs: 2, nextRunAt: 60_000, lastRunAt: 50_000 });
  });

  it('records the state of the last run’s task when it ends, not of a task from an earlier run', async () => {
    const clock = new FakeClock(0);
    const host = await started([reindexPlugin({ delaySeconds: 10, repeatSeconds: 10 }, clock)], clock);
    await clock.advance(10_000);
    const [first] = (await host.schedules.list())[0]!.lastTaskIds;
    await host.tasks.wait(first!);
    expect((await host.schedules.list())[0]).toMatchObject({ lastState: 'succeeded' });
    failNext = true;
    await clock.advance(10_000);
    const [second] = (await host.schedules.list())[0]!.lastTaskIds;
    await host.tasks.wait(second!);
    expect((await host.schedules.list())[0]).toMatchObject({ runs: 2, lastState: 'failed' });
  });
});

function sleepReal(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
