import { Task, type TaskContext } from '@plugboard/core';
import { describe, expect, it } from 'vitest';
import { hostsStartedPerTest, single } from './helpers.js';

const started = hostsStartedPerTest();

/** Takes its context apart before using it, as `run({ log, progress })` does. */
class TakenApart extends Task<Record<string, never>, unknown> {
  async run({ taskId, pluginId, attempt, user, log, progress, status, fail, signal }: TaskContext) {
    log.info('first line');
    progress(40, 'almost half');
    status('working');
    fail('stopped on purpose', { retryable: false });
    return { taskId, pluginId, attempt, userId: user.id, aborted: signal.aborted };
  }
}

/** Reads each function of its context twice: the same function both times, bound to this attempt. */
class ReadsTwice extends Task<Record<string, never>, unknown> {
  async run(ctx: TaskContext) {
    const first = {
      log: ctx.log,
      progress: ctx.progress,
      status: ctx.status,
      fail: ctx.fail,
      signal: ctx.signal,
    };
    return {
      log: first.log === ctx.log,
      progress: first.progress === ctx.progress,
      status: first.status === ctx.status,
      fail: first.fail === ctx.fail,
      signal: first.signal === ctx.signal,
    };
  }
}

describe('the task context', () => {
  it('works when a task takes it apart', async () => {
    const host = await started([single('apart', TakenApart)], { progressIntervalMs: 0 });
    const { tasks } = await host.execute('apart', {}, { user: { id: 'ada' } });
    const record = await host.tasks.wait(tasks[0]!.id);
    expect(record).toMatchObject({
      state: 'failed',
      error: { code: 'PLUGBOARD_TASK_FAILED', message: 'stopped on purpose' },
      progress: 40,
      progressMessage: 'almost half',
      statusText: 'working',
    });
    const logs = await host.tasks.logs(record.id);
    expect(logs.map((l) => l.message)).toEqual(['first line']);
  });

  it('hands out the same functions and signal on every read', async () => {
    const host = await started([single('twice', ReadsTwice)]);
    const { tasks } = await host.execute('twice', {});
    const record = await host.tasks.wait(tasks[0]!.id);
    expect(record.result).toEqual({ log: true, progress: true, status: true, fail: true, signal: true });
  });
});
