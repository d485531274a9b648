import {
  BackgroundTaskPlugin,
  describeCadence,
  describeDuration,
  type Host,
  memoryStore,
  Task,
  type TaskStore,
} from '@plugboard/core';
import { describe, expect, it } from 'vitest';
import { EchoPlugin, hostsStartedPerTest, WaitPlugin } from './helpers.js';

const started = hostsStartedPerTest();
const ada = { id: 'ada', name: 'Ada' };
const bob = { id: 'bob', name: 'Bob' };

class NoteTask extends Task<Record<string, never>, string> {
  async run() {
    return 'noted';
  }
}

class NightlyPlugin extends BackgroundTaskPlugin({
  id: 'nightly',
  name: 'Nightly',
  delaySeconds: 3600,
  repeatSeconds: 86_400,
  tasks: [NoteTask],
}) {
  createTasks() {
    return new NoteTask({});
  }
}

async function runningWait(host: Host, user = ada): Promise<string> {
  const { tasks } = await host.execute('wait', { ms: 60_000 }, { user });
  const id = tasks[0]!.id;
  await new Promise<void>((resolve) => {
    const check = async () =>
      (await host.tasks.get(id))?.state === 'running' ? resolve() : setTimeout(check, 5);
    check();
  });
  return id;
}

describe('who cancelled a task', () => {
  it('a running task cancelled with `by` records that person on its error, and reads so afterwards', async () => {
    const host = await started([WaitPlugin]);
    const id = await runningWait(host);
    const record = await host.tasks.cancel(id, { by: bob });
    expect(record.state).toBe('cancelled');
    expect(record.error).toMatchObject({
      code: 'PLUGBOARD_TASK_CANCELLED',
      cancelledBy: { id: 'bob', name: 'Bob' },
    });
    expect((await host.tasks.get(id))!.error?.cancelledBy).toEqual({ id: 'bob', name: 'Bob' });
  });

  it('a cancel without `by` records nobody', async () => {
    const host = await started([WaitPlugin]);
    const id = await runningWait(host);
    expect((await host.tasks.cancel(id)).error?.cancelledBy).toBeUndefined();
  });
});

describe('task counts', () => {
  it('counts tasks per state, filtered by user and plugin', async () => {
    const host = await started([EchoPlugin, WaitPlugin]);
    const { tasks } = await host.execute('echo', { text: 'hi', copies: 2 }, { user: ada });
    for (const task of tasks) await host.tasks.wait(task.id);
    const waiting = await runningWait(host, bob);
    expect(await host.tasks.counts()).toMatchObject({ succeeded: 2, running: 1, queued: 0, failed: 0 });
    expect(await host.tasks.counts({ user: 'bob' })).toMatchObject({ succeeded: 0, running: 1 });
    expect(await host.tasks.counts({ plugin: 'echo' })).toMatchObject({ succeeded: 2, running: 0 });
    await host.tasks.cancel(waiting);
  });

  it('a store without countTasks is counted page by page, with the same answer', async () => {
    const inner = memoryStore();
    const store: TaskStore = new Proxy(inner, {
      get: (target, name) => {
        if (name === 'countTasks') return undefined;
        const value = Reflect.get(target, name, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const host = await started([EchoPlugin], { store });
    const { tasks } = await host.execute('echo', { text: 'hi', copies: 3 }, { user: ada });
    for (const task of tasks) await host.tasks.wait(task.id);
    expect(await host.tasks.counts({ user: 'ada' })).toEqual(await inner.countTasks({ user: 'ada' }));
    expect((await host.tasks.counts()).succeeded).toBe(3);
  });
});

describe('running a task again', () => {
  it('queues a new task with the same input, run by the person who asked', async () => {
    const host = await started([EchoPlugin]);
    const { tasks } = await host.execute('echo', { text: 'again' }, { user: ada });
    const first = await host.tasks.wait(tasks[0]!.id);
    const rerun = await host.tasks.rerun(first.id, { user: bob });
    expect(rerun.id).not.toBe(first.id);
    expect(rerun).toMatchObject({
      pluginId: 'echo',
      taskType: first.taskType,
      input: first.input,
      user: bob,
    });
    expect((await host.tasks.wait(rerun.id)).result).toEqual(first.result);
  });

  it('refuses while the plugin is disabled, and for an unknown task', async () => {
    const host = await started([EchoPlugin]);
    const { tasks } = await host.execute('echo', { text: 'x' }, { user: ada });
    await host.tasks.wait(tasks[0]!.id);
    await host.plugins.disable('echo');
    await expect(host.tasks.rerun(tasks[0]!.id)).rejects.toMatchObject({ code: 'PLUGBOARD_PLUGIN_DISABLED' });
    await expect(host.tasks.rerun('nope')).rejects.toMatchObject({ code: 'PLUGBOARD_UNKNOWN_TASK' });
  });
});

describe('running a schedule now', () => {
  it('runs as the person who asked, and as the system user without one', async () => {
    const host = await started([NightlyPlugin]);
    const asked = await host.schedules.trigger('nightly', { user: ada });
    expect(asked.tasks[0]!.user).toEqual(ada);
    await host.tasks.wait(asked.tasks[0]!.id);
    const plain = await host.schedules.trigger('nightly');
    expect(plain.tasks[0]!.user.id).toBe('plugboard:system');
  });
});

describe('words for cadences and durations', () => {
  it('says a repeat interval and a duration as a person would', () => {
    expect(describeCadence(0)).toBe('once');
    expect(describeCadence(86_400)).toBe('every day');
    expect(describeCadence(6 * 3600)).toBe('every 6 hours');
    expect(describeCadence(60)).toBe('every minute');
    expect(describeCadence(90)).toBe('every 90 seconds');
    expect(describeCadence(1_209_600)).toBe('every 2 weeks');
    expect(describeDuration(850)).toBe('850 ms');
    expect(describeDuration(4200)).toBe('4.2 s');
    expect(describeDuration(185_000)).toBe('3 min 5 s');
    expect(describeDuration(7_800_000)).toBe('2 h 10 min');
  });
});
