import { memoryStore, type TaskRecord } from '@plugboard/core';
import type { RuntimeEnvironment } from '@plugboard/core/spi';
import { EventEmitter } from 'eventemitter3';
import { describe, expect, it } from 'vitest';
import { UpdateApplier } from '../../src/update-applier.js';

function running(id: string): TaskRecord {
  return {
    id,
    pluginId: 'p',
    taskType: 'p/T',
    input: {},
    user: { id: 'u' },
    state: 'running',
    progress: 0,
    progressMessage: null,
    statusText: null,
    createdAt: 1,
    startedAt: 2,
    finishedAt: null,
    result: null,
    error: null,
    attempt: 1,
    maxAttempts: 1,
    priority: 0,
    timeoutMs: null,
    scheduleId: null,
    contextId: null,
    logCount: 0,
  };
}

describe('the update applier', () => {
  it('records and announces a task end once when two ends of it arrive together', async () => {
    const store = memoryStore();
    const events = new EventEmitter();
    const env = {
      store,
      events,
      now: () => 10,
      reportError: (error: unknown) => {
        throw error;
      },
    } as unknown as RuntimeEnvironment;
    const applier = new UpdateApplier(env, 'here');
    await store.insertTask(running('t1'));
    const seen: TaskRecord[] = [];
    events.on('task:finished', (record: TaskRecord) => seen.push(record));
    const succeeded = { ...running('t1'), state: 'succeeded' as const, finishedAt: 5, result: 1 };
    const interrupted = {
      ...running('t1'),
      state: 'interrupted' as const,
      finishedAt: 6,
      error: { code: 'PLUGBOARD_TASK_INTERRUPTED', message: 'lost' },
    };
    await Promise.all([applier.finish(succeeded), applier.finish(interrupted)]);
    expect(seen.map((r) => r.state)).toEqual(['succeeded']);
    expect((await store.getTask('t1'))?.state).toBe('succeeded');
    // A later end of another task is not held up by the first one's.
    await store.insertTask(running('t2'));
    await applier.finish({ ...running('t2'), state: 'failed', finishedAt: 7 });
    expect(seen.map((r) => r.id)).toEqual(['t1', 't2']);
  });
});
