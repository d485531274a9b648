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

  it('applies a start or an end sent as a patch to the record it holds, or to the one read for it, or reports none', async () => {
    const store = memoryStore();
    const events = new EventEmitter();
    const errors: unknown[] = [];
    const env = {
      store,
      events,
      now: () => 10,
      reportError: (error: unknown) => errors.push(error),
    } as unknown as RuntimeEnvironment;
    const queued = (id: string): TaskRecord => ({ ...running(id), state: 'queued', startedAt: null });
    // The job holds the record of `elsewhere` only; `held` is in the store.
    const applier = new UpdateApplier(env, 'here', async (id) =>
      id === 'elsewhere' ? queued(id) : undefined,
    );
    await store.insertTask(queued('held'));
    const started: TaskRecord[] = [];
    const finished: TaskRecord[] = [];
    events.on('task:started', (record: TaskRecord) => started.push(record));
    events.on('task:finished', (record: TaskRecord) => finished.push(record));
    const start = { state: 'running' as const, attempt: 1, startedAt: 4, finishedAt: null };
    const end = { state: 'succeeded' as const, finishedAt: 8, result: { ok: true }, progress: 100 };
    for (const id of ['held', 'elsewhere', 'nowhere']) {
      await applier.apply({ type: 'started', id, patch: start });
      await applier.apply({ type: 'finished', id, patch: end });
    }
    expect(started).toEqual([
      { ...queued('held'), ...start },
      { ...queued('elsewhere'), ...start },
    ]);
    expect(finished).toEqual([
      { ...queued('held'), ...start, ...end },
      { ...queued('elsewhere'), ...start, ...end },
    ]);
    expect(await store.getTask('elsewhere')).toEqual({ ...queued('elsewhere'), ...start, ...end });
    expect(await store.getTask('nowhere')).toBeUndefined();
    expect(errors).toHaveLength(2);
    expect(String(errors[0])).toContain('task nowhere');
  });
});
