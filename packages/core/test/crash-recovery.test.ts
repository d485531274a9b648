import { ActionPlugin, memoryStore, Task, type TaskRecord, Type } from '@plugboard/core';
import { taskRecord } from '@plugboard/testing/contracts';
import { describe, expect, it } from 'vitest';
import { hostsStartedPerTest } from './helpers.js';

// What a host finds in its store at start when the previous process died: running tasks are run again (retry-safe
// types, operational plugins, fewer than three attempts) or recorded interrupted; queued tasks are resumed when
// their plugin can run them.

class SafeTask extends Task {
  static override retrySafe = true;
  run() {
    return 'ran again';
  }
}

class FragileTask extends Task {
  run() {
    return 'ran';
  }
}

const plugin = (id: string, ready = true) =>
  class extends ActionPlugin({ id, name: id, args: Type.Object({}), tasks: [SafeTask, FragileTask] }) {
    createTasks() {
      return new SafeTask({});
    }
    override isReady() {
      return ready;
    }
  };

const started = hostsStartedPerTest();

function left(pluginId: string, taskType: string, overrides: Partial<TaskRecord> = {}): TaskRecord {
  return taskRecord({
    pluginId,
    taskType: `${pluginId}/${taskType}`,
    input: {},
    state: 'running',
    startedAt: 1,
    ...overrides,
  });
}

describe('a host that starts on the store of a process that died', () => {
  it('runs a retry-safe running task again, records the others interrupted, resumes queued tasks it can run', async () => {
    const store = memoryStore();
    const records = {
      again: left('safe', 'SafeTask'),
      thirdAttempt: left('safe', 'SafeTask', { attempt: 3, maxAttempts: 1 }),
      fourthOfFive: left('safe', 'SafeTask', { attempt: 4, maxAttempts: 5 }),
      fragile: left('safe', 'FragileTask'),
      notOperational: left('down', 'SafeTask'),
      unknownPlugin: left('gone', 'SafeTask'),
      unknownType: left('safe', 'GoneTask'),
      queued: left('safe', 'SafeTask', { state: 'queued', startedAt: null }),
      queuedDown: left('down', 'SafeTask', { state: 'queued', startedAt: null }),
      queuedUnknown: left('safe', 'GoneTask', { state: 'queued', startedAt: null }),
    };
    for (const record of Object.values(records)) await store.insertTask(record);

    const host = await started([plugin('safe'), plugin('down', false)], { store });
    const report = host.report!;
    expect(report.recovery).toEqual({ interrupted: 5, requeued: 2, resumed: 1 });

    const again = await host.tasks.wait(records.again.id);
    expect(again).toMatchObject({ state: 'succeeded', attempt: 2, result: 'ran again' });
    expect((await host.tasks.logs(again.id)).map((l) => [l.level, l.message])).toContainEqual([
      'always',
      'The process running this task stopped; the task type is retry-safe, so it runs again.',
    ]);
    expect(await host.tasks.wait(records.fourthOfFive.id)).toMatchObject({ state: 'succeeded', attempt: 5 });

    for (const id of [
      records.thirdAttempt.id,
      records.fragile.id,
      records.notOperational.id,
      records.unknownPlugin.id,
      records.unknownType.id,
    ]) {
      expect(await host.tasks.get(id), id).toMatchObject({
        state: 'interrupted',
        finishedAt: expect.any(Number),
        error: {
          code: 'PLUGBOARD_TASK_INTERRUPTED',
          message: 'The process running this task stopped before it finished.',
        },
      });
    }
    expect(await host.tasks.wait(records.queued.id)).toMatchObject({ state: 'succeeded', attempt: 1 });
    // Left queued for a start at which their plugin or task type is back.
    expect((await host.tasks.get(records.queuedDown.id))?.state).toBe('queued');
    expect((await host.tasks.get(records.queuedUnknown.id))?.state).toBe('queued');
  });

  it('writes the next attempt as queued, with the interruption as its error, before running it', async () => {
    const store = memoryStore();
    const record = left('safe', 'SafeTask');
    await store.insertTask(record);
    const writes: Array<Partial<TaskRecord>> = [];
    const update = store.updateTask.bind(store);
    store.updateTask = async (id, patch) => {
      if (id === record.id) writes.push(patch);
      return update(id, patch);
    };
    const host = await started([plugin('safe')], { store });
    await host.tasks.wait(record.id);
    expect(writes[0]).toMatchObject({
      state: 'queued',
      attempt: 2,
      startedAt: null,
      error: { code: 'PLUGBOARD_TASK_INTERRUPTED' },
    });
  });
});
