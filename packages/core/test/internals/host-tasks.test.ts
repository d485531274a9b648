import {
  type HostEvents,
  memoryStore,
  systemClock,
  type TaskRecord,
  type TaskRuntime,
} from '@plugboard/core';
import { taskRecord } from '@plugboard/testing/contracts';
import { EventEmitter } from 'eventemitter3';
import { describe, expect, it } from 'vitest';
import { HostTasks } from '../../src/host/host-tasks.js';
import { WaitKeepAlive } from '../../src/host/wait-keep-alive.js';

/** A runtime that holds no task: the facade records cancellations itself. */
const idleRuntime: TaskRuntime = {
  name: 'idle',
  start: async () => {},
  enqueue: async () => {},
  cancel: async () => false,
  stop: async () => {},
  stats: () => ({ queued: 0, running: 0 }),
};

async function facade() {
  const store = memoryStore();
  await store.open();
  const events = new EventEmitter<HostEvents>();
  const tasks = new HostTasks({
    store,
    runtime: idleRuntime,
    clock: { ...systemClock, now: () => 42 },
    events,
    keepAlive: new WaitKeepAlive(),
  });
  return { store, events, tasks };
}

describe('host.tasks on its own', () => {
  it('settles a waiter when the runtime reports the task finished', async () => {
    const { store, events, tasks } = await facade();
    const record = taskRecord();
    await store.insertTask(record);
    const waiting = tasks.wait(record.id);
    const finished: TaskRecord = { ...record, state: 'succeeded', finishedAt: 43, result: 'done' };
    setTimeout(() => events.emit('task:finished', finished), 5);
    await expect(waiting).resolves.toMatchObject({ id: record.id, state: 'succeeded', result: 'done' });
  });

  it('reads the reported end of a task while the store still holds it unfinished', async () => {
    const { store, events, tasks } = await facade();
    const record = taskRecord({ state: 'running' });
    await store.insertTask(record);
    events.emit('task:finished', { ...record, state: 'failed', finishedAt: 43 });
    expect((await tasks.get(record.id))?.state).toBe('failed');
    expect((await tasks.list()).items.map((r) => r.state)).toEqual(['failed']);
  });

  it('records a cancellation itself when the runtime does not hold the task', async () => {
    const { store, tasks } = await facade();
    const record = taskRecord();
    await store.insertTask(record);
    const cancelled = await tasks.cancel(record.id);
    expect(cancelled).toMatchObject({ state: 'cancelled', finishedAt: 42 });
    expect(cancelled.error?.code).toBe('PLUGBOARD_TASK_CANCELLED');
  });

  it('refuses an unknown task id with PLUGBOARD_UNKNOWN_TASK', async () => {
    const { tasks } = await facade();
    await expect(tasks.logs('nope')).rejects.toMatchObject({ code: 'PLUGBOARD_UNKNOWN_TASK' });
  });
});
