import { ActionPlugin, Task, type TaskContext, Type } from '@plugboard/core';
import { describe, expect, it } from 'vitest';
import { hostsStartedPerTest, single } from './helpers.js';

// Each part of the `ctx` a task's `run` receives, read from the context or taken apart from it, does what its
// name says for this attempt and no other.

const started = hostsStartedPerTest(200);

/** Writes one line at every level, through the logger taken from the context. */
class EveryLevel extends Task<Record<string, never>> {
  async run({ log }: TaskContext) {
    log.debug('at debug');
    log.info('at info');
    log.warn('at warn');
    log.error('at error');
    log.critical('at critical');
    log.always('at always');
    return null;
  }
}

describe('the parts of the task context', () => {
  it('logs each line at the level of the function it was written with', async () => {
    const host = await started([single('levels', EveryLevel)], { logLevel: 'debug' });
    const { tasks } = await host.execute('levels', {});
    await host.tasks.wait(tasks[0]!.id);
    const logs = await host.tasks.logs(tasks[0]!.id);
    expect(logs.map((l) => [l.level, l.message])).toEqual([
      ['debug', 'at debug'],
      ['info', 'at info'],
      ['warn', 'at warn'],
      ['error', 'at error'],
      ['critical', 'at critical'],
      ['always', 'at always'],
    ]);
  });

  it('starts children through a spawn taken from the context, the same function on every read', async () => {
    class Child extends Task<{ n: number }, number> {
      run() {
        return this.input.n * 10;
      }
    }
    class Parent extends Task<Record<string, never>, unknown> {
      async run(ctx: TaskContext) {
        const { spawn } = ctx;
        const same = spawn === ctx.spawn;
        const child = await spawn(new Child({ n: 4 }));
        const end = await child.wait();
        return { same, result: end.result, parentId: end.parentId };
      }
    }
    class Family extends ActionPlugin({
      id: 'family',
      name: 'Family',
      args: Type.Object({}),
      tasks: [Parent, Child],
    }) {
      createTasks() {
        return new Parent({});
      }
    }
    const host = await started([Family]);
    const { tasks } = await host.execute('family', {});
    const record = await host.tasks.wait(tasks[0]!.id);
    expect(record.result).toEqual({ same: true, result: 40, parentId: tasks[0]!.id });
  });

  it('gives each attempt its own context: attempt number, functions bound to that attempt', async () => {
    const attempts: number[] = [];
    class Twice extends Task<Record<string, never>, unknown> {
      static override retry = { attempts: 2, backoff: { type: 'fixed' as const, delayMs: 5 } };
      async run(ctx: TaskContext) {
        const { progress, status, log, attempt, taskId, pluginId, properties } = ctx;
        progress(attempt * 30, `attempt ${attempt}`);
        status(`status of attempt ${attempt}`);
        log.info(`line of attempt ${attempt}`);
        attempts.push(attempt);
        if (attempt === 1) throw new Error('first attempt fails');
        return { taskId, pluginId, properties };
      }
    }
    const host = await started([single('twice', Twice)], { progressIntervalMs: 0 });
    const { tasks } = await host.execute('twice', {});
    const record = await host.tasks.wait(tasks[0]!.id);
    expect(record).toMatchObject({
      state: 'succeeded',
      attempt: 2,
      progressMessage: 'attempt 2',
      statusText: 'status of attempt 2',
      result: { taskId: tasks[0]!.id, pluginId: 'twice', properties: {} },
    });
    expect(attempts).toEqual([1, 2]);
    const logs = await host.tasks.logs(record.id);
    expect(logs.map((l) => l.message).filter((m) => m.startsWith('line'))).toEqual([
      'line of attempt 1',
      'line of attempt 2',
    ]);
  });

  it('fails the attempt through a fail taken from the context, retryable or not as asked', async () => {
    let runs = 0;
    class GivesUp extends Task<Record<string, never>> {
      static override retry = { attempts: 3, backoff: { type: 'fixed' as const, delayMs: 5 } };
      async run({ fail }: TaskContext) {
        runs++;
        fail('nothing to do', { retryable: false });
        return null;
      }
    }
    const host = await started([single('gives-up', GivesUp)]);
    const record = await host.tasks.wait((await host.execute('gives-up', {})).tasks[0]!.id);
    expect(record).toMatchObject({
      state: 'failed',
      attempt: 1,
      error: { code: 'PLUGBOARD_TASK_FAILED', message: 'nothing to do' },
    });
    expect(runs).toBe(1);
  });

  it('aborts the signal taken from the context when the task is cancelled', async () => {
    class Waits extends Task<Record<string, never>> {
      async run({ signal }: TaskContext) {
        await new Promise((resolve) => signal.addEventListener('abort', resolve));
        return signal.aborted;
      }
    }
    const host = await started([single('waits', Waits)]);
    const running = new Promise<void>((resolve) => host.events.once('task:started', () => resolve()));
    const { tasks } = await host.execute('waits', {});
    await running;
    const record = await host.tasks.cancel(tasks[0]!.id, { waitForStop: true });
    // Recorded cancelled once its code stopped: the signal reached it.
    expect(record).toMatchObject({ state: 'cancelled', result: null });
  });
});
