import { BackgroundTaskPlugin, createHost, type Host, Task } from '@plugboard/core';
import { sqliteStore } from '@plugboard/sqlite';
import { FakeClock } from '@plugboard/testing';
import { taskRecord } from '@plugboard/testing/contracts';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { tempDatabaseFolder } from './temp-db.js';

const folder = tempDatabaseFolder('plugboard-schedule-recovery-');
afterAll(() => folder.remove());

const hosts: Host[] = [];
afterEach(async () => {
  release();
  await Promise.all(hosts.splice(0).map((h) => h.stop({ timeoutMs: 100 })));
});

let release: () => void = () => {};
let running = 0;
let mostAtOnce = 0;

/** A run that holds until the test releases it, counting how many run side by side. */
class HeldTask extends Task<Record<string, never>> {
  async run() {
    running++;
    mostAtOnce = Math.max(mostAtOnce, running);
    try {
      await new Promise<void>((resolve) => {
        const previous = release;
        release = () => {
          previous();
          resolve();
        };
      });
    } finally {
      running--;
    }
    return 'done';
  }
}

const T0 = Date.parse('2030-01-01T00:00:00Z');

/** What a process that died with the schedule's run still queued leaves in the store. */
async function leaveQueuedRun(path: string): Promise<string> {
  const store = sqliteStore({ path });
  await store.open();
  const task = taskRecord({
    pluginId: 'held',
    taskType: 'held/HeldTask',
    input: {},
    user: { id: 'system' },
    scheduleId: 'held',
    createdAt: T0 - 5000,
  });
  await store.insertTask(task);
  await store.saveSchedule({
    id: 'held',
    pluginId: 'held',
    delaySeconds: 1,
    repeatSeconds: 1,
    nextRunAt: T0 - 4000,
    lastRunAt: T0 - 5000,
    lastTaskIds: [task.id],
    lastState: 'queued',
    runs: 1,
    createdAt: T0 - 6000,
    updatedAt: T0 - 5000,
  });
  await store.close();
  return task.id;
}

describe('a schedule whose run was unfinished when the process died', () => {
  for (const replaceExistingTasks of [true, false]) {
    it(`does not fire again until the recovered run ends (replaceExistingTasks: ${replaceExistingTasks})`, async () => {
      running = 0;
      mostAtOnce = 0;
      const path = folder.file();
      const leftOver = await leaveQueuedRun(path);
      const clock = new FakeClock(T0);
      class Held extends BackgroundTaskPlugin({
        id: 'held',
        name: 'Held',
        delaySeconds: 1,
        repeatSeconds: 1,
        replaceExistingTasks,
        tasks: [HeldTask],
      }) {
        createTasks() {
          return new HeldTask({});
        }
      }
      const host = createHost({
        env: false,
        argv: [],
        clock,
        store: sqliteStore({ path }),
        plugins: { classes: [Held] },
      });
      hosts.push(host);
      const report = await host.start();
      expect(report.recovery.resumed).toBe(1);
      await expect.poll(() => running).toBe(1);

      await clock.advance(5000);
      const whileHeld = (await host.tasks.list({ plugin: 'held' })).items;
      expect(whileHeld.map((t) => t.id)).toEqual([leftOver]);
      expect(mostAtOnce).toBe(1);

      release();
      expect(await host.tasks.wait(leftOver)).toMatchObject({ state: 'succeeded' });
      await clock.advance(1000);
      const after = (await host.tasks.list({ plugin: 'held' })).items;
      expect(after).toHaveLength(2);
      expect(mostAtOnce).toBe(1);
    });
  }
});
