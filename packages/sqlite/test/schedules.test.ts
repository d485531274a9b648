import {
  BackgroundTaskPlugin,
  type BackgroundTaskPluginDefinition,
  createHost,
  type Host,
  Task,
} from '@plugboard/core';
import { sqliteStore } from '@plugboard/sqlite';
import { FakeClock } from '@plugboard/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { tempDatabaseFolder } from './temp-db.js';

const folder = tempDatabaseFolder('plugboard-schedules-');
afterAll(() => folder.remove());

const hosts: Host[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop({ timeoutMs: 100 })));
});

class ReportTask extends Task<{ at: number }, { at: number }> {
  run() {
    return { at: this.input.at };
  }
}

function reportPlugin(options: Omit<BackgroundTaskPluginDefinition, 'id' | 'name'>, clock: FakeClock) {
  return class NightlyReport extends BackgroundTaskPlugin({
    id: 'report',
    name: 'Nightly report',
    tasks: [ReportTask],
    ...options,
  }) {
    createTasks() {
      return new ReportTask({ at: clock.now() });
    }
  };
}

async function startHost(
  path: string,
  clock: FakeClock,
  options: Omit<BackgroundTaskPluginDefinition, 'id' | 'name'>,
) {
  const host = createHost({
    env: false,
    argv: [],
    clock,
    store: sqliteStore({ path }),
    plugins: { classes: [reportPlugin(options, clock)] },
  });
  hosts.push(host);
  await host.start();
  return host;
}

async function runTimes(host: Host): Promise<number[]> {
  const tasks = (await host.tasks.list({ plugin: 'report', limit: 500 })).items;
  const done = await Promise.all(tasks.map((t) => host.tasks.wait(t.id)));
  return done.map((t) => (t.result as { at: number }).at).reverse();
}

const MINUTE = 60_000;

describe('background schedules on an SQLite file', () => {
  it('replace-existing: a restart re-arms the schedule from the new start, keeping its history, with no run repeated', async () => {
    const path = folder.file();
    const t0 = Date.parse('2030-01-01T00:00:00Z');
    const clock = new FakeClock(t0);
    const first = await startHost(path, clock, { delaySeconds: 30, repeatSeconds: 60 });
    await clock.advance(30_000 + MINUTE);
    expect(await runTimes(first)).toEqual([t0 + 30_000, t0 + 90_000]);
    await first.stop();

    const restartAt = t0 + 10 * MINUTE;
    const later = new FakeClock(restartAt);
    const second = await startHost(path, later, { delaySeconds: 30, repeatSeconds: 60 });
    const [schedule] = await second.schedules.list();
    expect(schedule).toMatchObject({ runs: 2, nextRunAt: restartAt + 30_000, lastState: 'succeeded' });
    expect(later.pendingTimers).toBe(1);
    await later.advance(29_999);
    expect(await runTimes(second)).toHaveLength(2);
    await later.advance(1 + MINUTE);
    expect(await runTimes(second)).toEqual([
      t0 + 30_000,
      t0 + 90_000,
      restartAt + 30_000,
      restartAt + 90_000,
    ]);
    expect((await second.schedules.list())[0]).toMatchObject({ runs: 4 });
    expect(later.pendingTimers).toBe(1);
  });

  it('a restart with a new delay and repeat honours them from the restart', async () => {
    const path = folder.file();
    const clock = new FakeClock();
    await startHost(path, clock, { delaySeconds: 30, repeatSeconds: 60 });
    await hosts.pop()!.stop();

    const later = new FakeClock(clock.now() + MINUTE);
    const second = await startHost(path, later, { delaySeconds: 5, repeatSeconds: 600 });
    expect(await second.schedules.list()).toEqual([
      expect.objectContaining({
        delaySeconds: 5,
        repeatSeconds: 600,
        nextRunAt: later.now() + 5000,
        runs: 0,
      }),
    ]);
  });

  it('replaceExistingTasks false: the stored due time is kept, and periods missed while down are not replayed', async () => {
    const path = folder.file();
    const t0 = Date.parse('2030-01-01T00:00:00Z');
    const clock = new FakeClock(t0);
    const options = { delaySeconds: 30, repeatSeconds: 60, replaceExistingTasks: false };
    const first = await startHost(path, clock, options);
    await clock.advance(30_000);
    expect(await runTimes(first)).toEqual([t0 + 30_000]);
    await first.stop();

    // Down for ten periods: one catch-up run at start, then back on the original cadence.
    const restartAt = t0 + 30_000 + 10 * MINUTE + 15_000;
    const later = new FakeClock(restartAt);
    const second = await startHost(path, later, options);
    expect((await second.schedules.list())[0]).toMatchObject({ nextRunAt: t0 + 90_000, runs: 1 });
    await later.advance(0);
    expect(await runTimes(second)).toEqual([t0 + 30_000, restartAt]);
    const [schedule] = await second.schedules.list();
    expect(schedule).toMatchObject({ runs: 2, nextRunAt: t0 + 30_000 + 11 * MINUTE });
    await later.advance(45_000);
    expect(await runTimes(second)).toEqual([t0 + 30_000, restartAt, t0 + 30_000 + 11 * MINUTE]);
  });

  it('replaceExistingTasks false: a one-off schedule that already ran does not run again after a restart', async () => {
    const path = folder.file();
    const clock = new FakeClock();
    const options = { delaySeconds: 1, repeatSeconds: 0, replaceExistingTasks: false };
    const first = await startHost(path, clock, options);
    await clock.advance(1000);
    expect(await runTimes(first)).toHaveLength(1);
    await first.stop();

    const later = new FakeClock(clock.now() + MINUTE);
    const second = await startHost(path, later, options);
    await later.advance(10 * MINUTE);
    expect(await runTimes(second)).toHaveLength(1);
    expect(later.pendingTimers).toBe(0);
  });
});
