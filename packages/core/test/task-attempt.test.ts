// One attempt of a task as a runtime runs it through `TaskExecution` (the service-provider interface): the record
// it writes, the events it emits, the outcome it returns to the runtime.

import { ROOT_CONTEXT } from '@opentelemetry/api';
import {
  type HostEvents,
  MemoryTaskStore,
  PlugboardError,
  Task,
  type TaskContext,
  TaskError,
  type TaskRecord,
} from '@plugboard/core';
import { type AttemptTelemetry, endPatch, type RuntimeEnvironment, TaskExecution } from '@plugboard/core/spi';
import { taskRecord } from '@plugboard/testing/contracts';
import { EventEmitter } from 'eventemitter3';
import { describe, expect, it } from 'vitest';
import { hostsStartedPerTest, single } from './helpers.js';

type Run = (ctx: TaskContext) => unknown;

class FunctionTask extends Task<Record<string, never>, unknown> {
  readonly #run: Run;
  constructor(run: Run) {
    super({});
    this.#run = run;
  }
  run(ctx: TaskContext) {
    return this.#run(ctx);
  }
}

interface Setup {
  readonly record?: Partial<TaskRecord>;
  readonly env?: Partial<RuntimeEnvironment>;
  readonly secrets?: readonly string[];
  readonly properties?: Record<string, unknown>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A stored queued task, the environment a runtime would hand its attempt, and what that attempt emits. */
async function attemptOf(run: Run, setup: Setup = {}) {
  const store = new MemoryTaskStore();
  const events = new EventEmitter<HostEvents>();
  const record = taskRecord({ pluginId: 'sums', taskType: 'sums/FunctionTask', ...setup.record });
  await store.insertTask(record);
  const clock = { now: 1_700_000_000_000 };
  const errors: unknown[] = [];
  const started: TaskRecord[] = [];
  const progress: HostEvents['task:progress'][0][] = [];
  const logs: HostEvents['task:log'][0][] = [];
  events.on('task:started', (r) => started.push(r));
  events.on('task:progress', (e) => progress.push(e));
  events.on('task:log', (e) => logs.push(e));
  const env: RuntimeEnvironment = {
    store,
    events,
    instantiate: () => ({
      task: new FunctionTask(run),
      properties: setup.properties ?? {},
      ...(setup.secrets ? { secrets: setup.secrets } : {}),
    }),
    retryPolicy: () => undefined,
    now: () => clock.now,
    logLevel: 'debug',
    maxLogLineLength: 1000,
    progressIntervalMs: 0,
    reportError: (error) => errors.push(error),
    fireSchedule: () => Promise.reject(new Error('no schedules here')),
    ...setup.env,
  };
  const execution = new TaskExecution(env, record);
  return { store, events, env, execution, record, clock, errors, started, progress, logs };
}

/**
 * Runs one attempt of `run` to its end and writes the end as a runtime does; resolves with the outcome, and the
 * stored record and log once written.
 */
async function runAttempt(run: Run, setup: Setup = {}) {
  const parts = await attemptOf(run, setup);
  const outcome = await parts.execution.run();
  await parts.store.updateTask(parts.record.id, endPatch(parts.execution.record));
  await new Promise((resolve) => setImmediate(resolve));
  const stored = (await parts.store.getTask(parts.record.id))!;
  const storedLogs = await parts.store.getLogs(parts.record.id);
  return { ...parts, outcome, stored, storedLogs };
}

describe('an attempt starts', () => {
  it('marks the record running at the host clock, from a fresh progress, and announces it', async () => {
    const { execution, store, record, started, clock } = await attemptOf(() => new Promise(() => {}), {
      record: { progress: 40, progressMessage: 'left over', finishedAt: 7 },
    });
    clock.now += 10;
    void execution.run();
    const stored = await store.getTask(record.id);
    expect(stored).toMatchObject({
      state: 'running',
      startedAt: clock.now,
      finishedAt: null,
      progress: 0,
      progressMessage: null,
    });
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({ id: record.id, state: 'running', startedAt: clock.now, progress: 0 });
    expect(execution.record).toMatchObject({ state: 'running', startedAt: clock.now });
    execution.abort('interrupted', 'end of test');
  });

  it('hands the task its identity, user and properties', async () => {
    const { outcome, record } = await runAttempt(
      (ctx) => ({
        taskId: ctx.taskId,
        pluginId: ctx.pluginId,
        attempt: ctx.attempt,
        user: ctx.user.id,
        properties: ctx.properties,
      }),
      { record: { attempt: 2, maxAttempts: 3 }, properties: { region: 'eu' } },
    );
    expect(outcome.result).toEqual({
      taskId: record.id,
      pluginId: 'sums',
      attempt: 2,
      user: 'alice',
      properties: { region: 'eu' },
    });
  });

  it('a task type that cannot be rebuilt fails the attempt for good with its coded error', async () => {
    const parts = await attemptOf(() => 'never');
    const env = {
      ...parts.env,
      instantiate: () => {
        throw new PlugboardError('PLUGBOARD_UNKNOWN_TASK_TYPE', 'No task type sums/Gone is registered.');
      },
    };
    const outcome = await new TaskExecution(env, parts.record).run();
    expect(outcome).toMatchObject({
      state: 'failed',
      retryable: false,
      error: { code: 'PLUGBOARD_UNKNOWN_TASK_TYPE', message: 'No task type sums/Gone is registered.' },
    });
    expect(outcome.error).not.toHaveProperty('retryable');
    expect(outcome.error!.stack).toContain('No task type sums/Gone is registered.');
  });
});

describe('the result of an attempt', () => {
  it('is stored as JSON: undefined becomes null, non-finite numbers null, -0 is 0, dates their text', async () => {
    const cases: [unknown, unknown][] = [
      [undefined, null],
      [null, null],
      ['text', 'text'],
      [false, false],
      [true, true],
      [42.5, 42.5],
      [Number.NaN, null],
      [Number.POSITIVE_INFINITY, null],
      [
        { at: new Date(0), gone: undefined, list: [1, undefined] },
        { at: '1970-01-01T00:00:00.000Z', list: [1, null] },
      ],
    ];
    for (const [returned, stored] of cases) {
      const { outcome, stored: record } = await runAttempt(() => returned);
      expect(outcome).toEqual({ state: 'succeeded', result: stored, error: null, retryable: false });
      expect(record.result).toEqual(stored);
    }
    const { outcome } = await runAttempt(() => -0);
    expect(Object.is(outcome.result, 0)).toBe(true);
  });

  it('that is not JSON fails the attempt for good, saying why', async () => {
    const { outcome, stored } = await runAttempt(() => ({ big: 10n }));
    expect(outcome).toMatchObject({ state: 'failed', retryable: false });
    expect(outcome.error!.code).toBe('PLUGBOARD_TASK_FAILED');
    expect(outcome.error!.message).toMatch(/^The task's result is not JSON-serialisable: .*BigInt/);
    expect(stored).toMatchObject({ state: 'failed', result: null });
  });

  it('of a success ends the record at 100% with the finish time and the result', async () => {
    const { stored, clock, execution } = await runAttempt(async (ctx) => {
      ctx.progress(30);
      return { sum: 3 };
    });
    expect(stored).toMatchObject({
      state: 'succeeded',
      progress: 100,
      finishedAt: clock.now,
      result: { sum: 3 },
      error: null,
    });
    expect(execution.record).toMatchObject({ state: 'succeeded', progress: 100, result: { sum: 3 } });
  });

  it('of a failure keeps the progress reached and no result', async () => {
    const { execution, outcome } = await runAttempt(async (ctx) => {
      ctx.progress(30);
      throw new Error('half way');
    });
    expect(outcome.state).toBe('failed');
    expect(execution.record).toMatchObject({ state: 'failed', progress: 30, result: null });
    expect(execution.record.error).toMatchObject({ code: 'PLUGBOARD_TASK_FAILED', message: 'half way' });
  });
});

describe('what a thrown value is recorded as', () => {
  const thrownBy = async (value: unknown, sync = false) =>
    (
      await runAttempt(
        sync
          ? () => {
              throw value;
            }
          : async () => {
              throw value;
            },
      )
    ).outcome;

  it('a plain error: a retryable failure with its message and stack', async () => {
    for (const sync of [false, true]) {
      const outcome = await thrownBy(new Error('disk full'), sync);
      expect(outcome.state).toBe('failed');
      expect(outcome.retryable).toBe(true);
      expect(outcome.error).toMatchObject({ code: 'PLUGBOARD_TASK_FAILED', message: 'disk full' });
      expect(outcome.error!.stack).toMatch(/^Error: disk full\n/);
    }
  });

  it('a TaskError: its code and whether a retry can help', async () => {
    const coded = await thrownBy(new TaskError('quota', { code: 'QUOTA_EXCEEDED', retryable: false }));
    expect(coded).toMatchObject({
      state: 'failed',
      retryable: false,
      error: { code: 'QUOTA_EXCEEDED', message: 'quota' },
    });
    expect(coded.error).not.toHaveProperty('retryable');
    const plain = await thrownBy(new TaskError('again'));
    expect(plain).toMatchObject({ retryable: true, error: { code: 'PLUGBOARD_TASK_FAILED' } });
  });

  it('an error with a PLUGBOARD_ code keeps it; other codes are a plain failure', async () => {
    const ours = await thrownBy(
      Object.assign(new Error('store gone'), { code: 'PLUGBOARD_STORE_UNAVAILABLE' }),
    );
    expect(ours.error!.code).toBe('PLUGBOARD_STORE_UNAVAILABLE');
    const system = await thrownBy(Object.assign(new Error('no such file'), { code: 'ENOENT' }));
    expect(system.error!.code).toBe('PLUGBOARD_TASK_FAILED');
    const numeric = await thrownBy(Object.assign(new Error('numbered'), { code: 17 }));
    expect(numeric.error!.code).toBe('PLUGBOARD_TASK_FAILED');
  });

  it('a TaskError of another copy of the library (same name, own code) keeps its code', async () => {
    class TaskErrorElsewhere extends Error {
      override readonly name = 'TaskError';
      readonly code = 'RATE_LIMITED';
      readonly retryable = false;
    }
    const outcome = await thrownBy(new TaskErrorElsewhere('slow down'));
    expect(outcome).toMatchObject({
      retryable: false,
      error: { code: 'RATE_LIMITED', message: 'slow down' },
    });
  });

  it('a subclass of TaskError keeps its code under a name of its own', async () => {
    class QuotaError extends TaskError {
      // Renamed as plain JavaScript may do; the type says `'TaskError'`.
      override readonly name = 'QuotaError' as 'TaskError';
    }
    const outcome = await thrownBy(new QuotaError('over quota', { code: 'QUOTA', retryable: false }));
    expect(outcome).toMatchObject({ retryable: false, error: { code: 'QUOTA', message: 'over quota' } });
  });

  it('a code that does not look like one is recorded as a plain failure', async () => {
    const codeOf = async (code: string) => (await thrownBy(new TaskError('x', { code }))).error!.code;
    expect(await codeOf('a.b:c-d_E9')).toBe('a.b:c-d_E9');
    expect(await codeOf('C'.repeat(100))).toBe('C'.repeat(100));
    expect(await codeOf('C'.repeat(101))).toBe('PLUGBOARD_TASK_FAILED');
    expect(await codeOf('')).toBe('PLUGBOARD_TASK_FAILED');
    expect(await codeOf('has space')).toBe('PLUGBOARD_TASK_FAILED');
    expect(await codeOf('line\nbreak')).toBe('PLUGBOARD_TASK_FAILED');
    expect(await codeOf('x\nCODE')).toBe('PLUGBOARD_TASK_FAILED');
    expect(await codeOf('CODE\nx')).toBe('PLUGBOARD_TASK_FAILED');
    // From plain JavaScript, where nothing checks the type: a number is not a code.
    expect(await codeOf(42 as unknown as string)).toBe('PLUGBOARD_TASK_FAILED');
  });

  it('a value that is not an error: described, no stack, retryable unless it says otherwise', async () => {
    const text = await thrownBy('plain words');
    expect(text).toMatchObject({
      retryable: true,
      error: { code: 'PLUGBOARD_TASK_FAILED', message: 'plain words' },
    });
    expect(text.error).not.toHaveProperty('stack');
    const object = await thrownBy({ retryable: false, why: 'no' });
    expect(object).toMatchObject({ retryable: false, error: { code: 'PLUGBOARD_TASK_FAILED' } });
    expect(object.error!.message).toContain('"why":"no"');
    expect(await thrownBy({ retryable: 0 })).toMatchObject({ retryable: true });
    for (const nothing of [null, undefined]) {
      expect(await thrownBy(nothing)).toMatchObject({
        state: 'failed',
        retryable: true,
        error: { code: 'PLUGBOARD_TASK_FAILED' },
      });
    }
  });

  it('an error whose stack is not text has none recorded', async () => {
    const error = new Error('odd stack');
    Object.defineProperty(error, 'stack', { value: 42 });
    const outcome = await thrownBy(error);
    expect(outcome.error).toEqual({ code: 'PLUGBOARD_TASK_FAILED', message: 'odd stack' });
  });

  it('a value whose getters throw: a retryable plain failure', async () => {
    const hostile = new Proxy(new Error('trap'), {
      get(target, key) {
        if (key === 'code' || key === 'retryable') throw new Error('no reading me');
        return Reflect.get(target, key);
      },
    });
    const outcome = await thrownBy(hostile);
    expect(outcome).toMatchObject({
      state: 'failed',
      retryable: true,
      error: { code: 'PLUGBOARD_TASK_FAILED' },
    });
    expect(outcome.error).not.toHaveProperty('stack');
  });
});

describe('ctx.fail', () => {
  it('fails the attempt when run returns, retryable unless told otherwise', async () => {
    const retryable = await runAttempt((ctx) => {
      ctx.fail('upstream down');
      return 'ignored';
    });
    expect(retryable.outcome).toEqual({
      state: 'failed',
      error: { code: 'PLUGBOARD_TASK_FAILED', message: 'upstream down' },
      retryable: true,
    });
    expect(retryable.stored).toMatchObject({ state: 'failed', result: null });
    const final = await runAttempt((ctx) => {
      ctx.fail('bad input', { retryable: false });
    });
    expect(final.outcome).toMatchObject({ state: 'failed', retryable: false });
  });

  it('describes a reason that is not text', async () => {
    const { outcome } = await runAttempt((ctx) => {
      ctx.fail(new Error('from an error') as unknown as string);
    });
    expect(outcome.error).toEqual({ code: 'PLUGBOARD_TASK_FAILED', message: 'from an error' });
  });
});

describe('cancel, timeout and shutdown', () => {
  it('abort settles the attempt at once with the state, a coded error and the signal aborted', async () => {
    for (const [state, code] of [
      ['cancelled', 'PLUGBOARD_TASK_CANCELLED'],
      ['timed-out', 'PLUGBOARD_TASK_TIMED_OUT'],
      ['interrupted', 'PLUGBOARD_TASK_INTERRUPTED'],
    ] as const) {
      let signal: AbortSignal | undefined;
      const { execution } = await attemptOf((ctx) => {
        signal = ctx.signal;
        return new Promise(() => {}); // ignores its signal
      });
      const running = execution.run();
      await sleep(1);
      execution.abort(state, `stopped: ${state}`);
      const outcome = await running;
      expect(outcome).toEqual({ state, error: { code, message: `stopped: ${state}` }, retryable: false });
      expect(signal!.aborted).toBe(true);
      expect(signal!.reason).toBeInstanceOf(PlugboardError);
      expect(signal!.reason).toMatchObject({ code, message: `stopped: ${state}` });
      expect(execution.record).toMatchObject({ state, error: { code }, result: null });
    }
  });

  it('abort after the end changes nothing', async () => {
    const events: string[] = [];
    const telemetry: AttemptTelemetry = {
      startAttempt: () => ({ context: ROOT_CONTEXT, event: (event) => events.push(event), end: () => {} }),
    };
    const { execution, outcome } = await runAttempt(() => 'done', { env: { telemetry } });
    execution.abort('cancelled', 'too late');
    execution.requestCancel('too late');
    expect(outcome.state).toBe('succeeded');
    expect(execution.record).toMatchObject({ state: 'succeeded', error: null });
    expect(events).toEqual([]);
  });

  it('abort before the attempt runs does not throw, and the task starts with its signal aborted', async () => {
    let aborted: boolean | undefined;
    const { execution } = await attemptOf((ctx) => {
      aborted = ctx.signal.aborted;
      return 'ran';
    });
    expect(() => execution.abort('interrupted', 'stopping')).not.toThrow();
    await execution.run();
    expect(aborted).toBe(true);
  });

  it('a cancel request aborts the signal and records cancelled once the code stops, however it ends', async () => {
    for (const ending of ['returns', 'throws', 'fails'] as const) {
      let seenReason: unknown;
      const { execution } = await attemptOf(async (ctx) => {
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
        seenReason = ctx.signal.reason;
        await sleep(5); // cleans up before it stops
        if (ending === 'throws') throw new Error('aborted');
        if (ending === 'fails') ctx.fail('gave up');
        return 'partial';
      });
      const running = execution.run();
      await sleep(1);
      execution.requestCancel('The user cancelled it.');
      execution.requestCancel('A second cancel is not recorded.');
      expect(execution.record.state).toBe('running');
      const outcome = await running;
      expect(seenReason).toMatchObject({
        code: 'PLUGBOARD_TASK_CANCELLED',
        message: 'The user cancelled it.',
      });
      expect(outcome).toEqual({
        state: 'cancelled',
        error: { code: 'PLUGBOARD_TASK_CANCELLED', message: 'The user cancelled it.' },
        retryable: false,
      });
      expect(execution.record).toMatchObject({ state: 'cancelled', result: null });
    }
  });

  it('a timeout ends a task that ignores its signal, saying how long it had', async () => {
    const { outcome } = await runAttempt(() => new Promise(() => {}), { record: { timeoutMs: 20 } });
    expect(outcome).toEqual({
      state: 'timed-out',
      error: { code: 'PLUGBOARD_TASK_TIMED_OUT', message: 'The task ran longer than its timeout of 20 ms.' },
      retryable: false,
    });
  });

  it('a task whose synchronous work outlasts its timeout is timed out, whether it returned or threw', async () => {
    const busy = (ms: number) => {
      const until = performance.now() + ms;
      while (performance.now() < until) {}
    };
    const returned = await runAttempt(
      () => {
        busy(40);
        return 'late';
      },
      { record: { timeoutMs: 10 } },
    );
    expect(returned.outcome).toEqual({
      state: 'timed-out',
      error: { code: 'PLUGBOARD_TASK_TIMED_OUT', message: 'The task ran longer than its timeout of 10 ms.' },
      retryable: false,
    });
    expect(returned.stored).toMatchObject({ state: 'timed-out', result: null });
    const threw = await runAttempt(
      () => {
        busy(40);
        throw new Error('late and wrong');
      },
      { record: { timeoutMs: 10 } },
    );
    expect(threw.outcome.state).toBe('timed-out');
  });

  it('a task within its timeout keeps its own outcome, and one cancelled while over it stays cancelled', async () => {
    const quick = await runAttempt(() => 'quick', { record: { timeoutMs: 5_000 } });
    expect(quick.outcome.state).toBe('succeeded');
    const failing = await runAttempt(
      () => {
        throw new Error('quick failure');
      },
      { record: { timeoutMs: 5_000 } },
    );
    expect(failing.outcome).toMatchObject({ state: 'failed', error: { message: 'quick failure' } });
    const { execution } = await attemptOf(
      () => {
        const until = performance.now() + 40;
        while (performance.now() < until) {}
        return 'late';
      },
      { record: { timeoutMs: 10 } },
    );
    const running = execution.run();
    // The synchronous work has run by now; a cancel request is settled when the task returns.
    execution.requestCancel('cancelled while busy');
    expect((await running).state).toBe('cancelled');
  });

  it('a timeout longer than a timer can hold does not fire at once', async () => {
    const { outcome } = await runAttempt(
      async () => {
        await sleep(30);
        return 'kept';
      },
      { record: { timeoutMs: 2 ** 31 * 4 } },
    );
    expect(outcome).toMatchObject({ state: 'succeeded', result: 'kept' });
  });

  it('work the task left running learns through its signal that the task is over', async () => {
    let signal: AbortSignal | undefined;
    const { outcome } = await runAttempt((ctx) => {
      signal = ctx.signal;
      return 'returned early';
    });
    expect(outcome.state).toBe('succeeded');
    expect(signal!.aborted).toBe(true);
    expect(signal!.reason).toMatchObject({
      code: 'PLUGBOARD_TASK_CANCELLED',
      message: 'The task has finished.',
    });
  });

  it('work that reads the signal for the first time after the task ended finds it aborted', async () => {
    let ctxKept: TaskContext | undefined;
    const { outcome } = await runAttempt((ctx) => {
      ctxKept = ctx;
      return 'returned before reading its signal';
    });
    expect(outcome.state).toBe('succeeded');
    const late = ctxKept!.signal;
    expect(late.aborted).toBe(true);
    expect(late.reason).toMatchObject({
      code: 'PLUGBOARD_TASK_CANCELLED',
      message: 'The task has finished.',
    });
    // The same signal on every later read.
    expect(ctxKept!.signal).toBe(late);
  });

  it('a signal aborted by a timeout keeps its reason after the end', async () => {
    let signal: AbortSignal | undefined;
    await runAttempt(
      (ctx) => {
        signal = ctx.signal;
        return new Promise(() => {});
      },
      { record: { timeoutMs: 5 } },
    );
    expect(signal!.reason).toMatchObject({ code: 'PLUGBOARD_TASK_TIMED_OUT' });
  });
});

describe('the log of an attempt', () => {
  it('numbers lines after those of earlier attempts, stores them and announces each', async () => {
    const { storedLogs, logs, stored, record, clock } = await runAttempt(
      (ctx) => {
        ctx.log.info('one');
        ctx.log.warn('two');
        return 'ok';
      },
      { record: { logCount: 4, attempt: 2, maxAttempts: 2 } },
    );
    expect(storedLogs.map((l) => [l.seq, l.level, l.message, l.time])).toEqual([
      [5, 'info', 'one', clock.now],
      [6, 'warn', 'two', clock.now],
    ]);
    expect(stored.logCount).toBe(6);
    expect(logs).toEqual([
      { id: record.id, pluginId: 'sums', userId: 'alice', entry: storedLogs[0] },
      { id: record.id, pluginId: 'sums', userId: 'alice', entry: storedLogs[1] },
    ]);
  });

  it('drops lines below the level, keeps `always`, and describes what is not text', async () => {
    const { storedLogs } = await runAttempt(
      (ctx) => {
        ctx.log.debug('hidden');
        ctx.log.info('hidden too');
        ctx.log.warn('kept');
        ctx.log.always('always kept');
        ctx.log.error(new Error('an error object') as unknown as string);
        ctx.log.critical('critical');
      },
      { env: { logLevel: 'warn' } },
    );
    expect(storedLogs.map((l) => [l.level, l.message])).toEqual([
      ['warn', 'kept'],
      ['always', 'always kept'],
      ['error', 'an error object'],
      ['critical', 'critical'],
    ]);
    const { storedLogs: above } = await runAttempt(
      (ctx) => {
        ctx.log.warn('below critical');
        ctx.log.critical('at critical');
      },
      { env: { logLevel: 'critical' } },
    );
    expect(above.map((l) => l.message)).toEqual(['at critical']);
  });

  it('cuts long lines and says by how much', async () => {
    const { storedLogs } = await runAttempt(
      (ctx) => {
        ctx.log.info('x'.repeat(25));
        ctx.log.info('y'.repeat(20));
      },
      { env: { maxLogLineLength: 20 } },
    );
    expect(storedLogs.map((l) => l.message)).toEqual([
      `${'x'.repeat(20)}… [5 characters cut]`,
      'y'.repeat(20),
    ]);
  });

  it('past the per-attempt limit lines are counted, and one warning at the end says how many', async () => {
    const { storedLogs, stored, logs } = await runAttempt(
      (ctx) => {
        for (let i = 1; i <= 7; i++) ctx.log.info(`line ${i}`);
        return 'ok';
      },
      { env: { maxLogLinesPerAttempt: 3 } },
    );
    expect(storedLogs.map((l) => [l.seq, l.level, l.message])).toEqual([
      [1, 'info', 'line 1'],
      [2, 'info', 'line 2'],
      [3, 'info', 'line 3'],
      [4, 'warn', '4 log lines were dropped: one attempt of a task keeps at most 3 (maxLogLinesPerAttempt).'],
    ]);
    expect(stored.logCount).toBe(4);
    expect(logs).toHaveLength(4);
  });

  it('keeps 10,000 lines per attempt unless told otherwise', async () => {
    const { storedLogs, stored } = await runAttempt((ctx) => {
      for (let i = 1; i <= 10_001; i++) ctx.log.debug(`line ${i}`);
    });
    expect(storedLogs.at(-2)!.message).toBe('line 10000');
    expect(storedLogs.at(-1)!.message).toBe(
      '1 log lines were dropped: one attempt of a task keeps at most 10000 (maxLogLinesPerAttempt).',
    );
    expect(stored.logCount).toBe(10_001);
  });

  it('a task that logs in a tight loop has its lines stored 200 at a time while it runs', async () => {
    const seen: number[] = [];
    const { store, record, execution } = await attemptOf(async (ctx) => {
      for (let i = 1; i <= 450; i++) {
        ctx.log.info(`line ${i}`);
        if (i === 199 || i === 200 || i === 400) {
          seen.push((await store.getLogs(record.id)).length);
          seen.push((await store.getTask(record.id))!.logCount);
        }
      }
      return 'ok';
    });
    await execution.run();
    // The memory store writes as soon as it is asked: what was flushed is visible at once.
    expect(seen).toEqual([0, 0, 200, 200, 400, 400]);
    await sleep(1);
    expect((await store.getLogs(record.id)).length).toBe(450);
    expect((await store.getTask(record.id))!.logCount).toBe(450);
  });

  it('lines reach the store soon after they are written, before the task ends', async () => {
    let storedWhileRunning = -1;
    const { store, record, execution } = await attemptOf(async (ctx) => {
      ctx.log.info('first');
      await sleep(10);
      ctx.log.info('second');
      await sleep(10);
      storedWhileRunning = (await store.getLogs(record.id)).length;
      return 'ok';
    });
    await execution.run();
    expect(storedWhileRunning).toBe(2);
  });

  it('a line written after the end is ignored', async () => {
    let late: TaskContext | undefined;
    const { store, record, execution } = await runAttempt((ctx) => {
      late = ctx;
      return 'ok';
    });
    late!.log.always('after the end');
    late!.progress(50, 'after the end');
    late!.status('after the end');
    await sleep(5);
    expect(await store.getLogs(record.id)).toEqual([]);
    expect(execution.record).toMatchObject({ progress: 100, progressMessage: null, statusText: null });
  });

  it('a store that refuses a log write is reported, not thrown at the task', async () => {
    const store = new (class extends MemoryTaskStore {
      override async appendLogs(): Promise<void> {
        throw new Error('disk full');
      }
    })();
    const { outcome, errors } = await runAttempt(
      (ctx) => {
        ctx.log.info('line');
        return 'ok';
      },
      { env: { store } },
    );
    expect(outcome.state).toBe('succeeded');
    expect(errors).toEqual([expect.objectContaining({ message: 'disk full' })]);
  });
});

describe('progress and status', () => {
  it('clamps progress to 0..100, ignores what is not a number, and keeps the last message', async () => {
    const seen: unknown[] = [];
    const parts = await attemptOf((ctx) => {
      ctx.progress(-5, 'starting');
      seen.push(parts.execution.record.progress, parts.execution.record.progressMessage);
      ctx.progress(250);
      seen.push(parts.execution.record.progress, parts.execution.record.progressMessage);
      ctx.progress(Number.NaN, 'not a number');
      ctx.progress('60' as unknown as number, 'text');
      seen.push(parts.execution.record.progress, parts.execution.record.progressMessage);
      ctx.progress(55.5, 'x'.repeat(600));
      seen.push(parts.execution.record.progress, (parts.execution.record.progressMessage ?? '').length);
      throw new Error('stop here');
    });
    await parts.execution.run();
    expect(seen).toEqual([0, 'starting', 100, 'starting', 100, 'starting', 55.5, 500]);
    expect(parts.progress.map((p) => p.progress)).toEqual([0, 100, 55.5]);
    expect(parts.execution.record.progress).toBe(55.5);
  });

  it('announces and stores progress, message and status together', async () => {
    const { progress, store, record, execution } = await attemptOf(async (ctx) => {
      ctx.status('warming up');
      ctx.progress(20, 'a fifth');
      await sleep(1);
      const stored = await store.getTask(record.id);
      return { progress: stored!.progress, message: stored!.progressMessage, status: stored!.statusText };
    });
    const outcome = await execution.run();
    expect(outcome.result).toEqual({ progress: 20, message: 'a fifth', status: 'warming up' });
    expect(progress).toEqual([
      {
        id: record.id,
        pluginId: 'sums',
        userId: 'alice',
        progress: 0,
        message: null,
        statusText: 'warming up',
      },
      {
        id: record.id,
        pluginId: 'sums',
        userId: 'alice',
        progress: 20,
        message: 'a fifth',
        statusText: 'warming up',
      },
    ]);
  });

  it('cuts a status to 500 characters and describes one that is not text', async () => {
    const texts: (string | null)[] = [];
    const parts = await attemptOf((ctx) => {
      ctx.status('s'.repeat(501));
      texts.push(parts.execution.record.statusText);
      ctx.status('s'.repeat(500));
      texts.push(parts.execution.record.statusText);
      ctx.status(new Error('status from an error') as unknown as string);
      texts.push(parts.execution.record.statusText);
      ctx.progress(1, 'm'.repeat(500));
      return 'ok';
    });
    await parts.execution.run();
    expect(texts).toEqual(['s'.repeat(500), 's'.repeat(500), 'status from an error']);
    expect(parts.execution.record.progressMessage).toBe('m'.repeat(500));
  });

  it('emits the first change at once and coalesces the ones within the interval into one trailing event', async () => {
    const parts = await attemptOf(
      async (ctx) => {
        ctx.progress(10);
        ctx.progress(20);
        ctx.progress(30, 'third');
        const atOnce = parts.progress.map((p) => p.progress);
        await sleep(120);
        return { atOnce, beforeTheEnd: parts.progress.map((p) => p.progress) };
      },
      { env: { progressIntervalMs: 40, now: () => Date.now() } },
    );
    const outcome = await parts.execution.run();
    expect(outcome.result).toEqual({ atOnce: [10], beforeTheEnd: [10, 30] });
    expect(parts.progress.map((p) => [p.progress, p.message])).toEqual([
      [10, null],
      [30, 'third'],
    ]);
  });

  it('with no interval every change is announced at once', async () => {
    const parts = await attemptOf((ctx) => {
      const counts: number[] = [];
      for (const percent of [10, 20, 30]) {
        ctx.progress(percent);
        counts.push(parts.progress.length);
      }
      return counts;
    });
    expect((await parts.execution.run()).result).toEqual([1, 2, 3]);
  });

  it('a change still waiting for its interval is announced and stored when the attempt ends', async () => {
    const { progress, stored } = await runAttempt(
      (ctx) => {
        ctx.progress(10);
        ctx.progress(70, 'nearly');
        throw new Error('stopped');
      },
      { env: { progressIntervalMs: 60_000 } },
    );
    expect(progress.map((p) => p.progress)).toEqual([10, 70]);
    expect(stored).toMatchObject({ state: 'failed', progress: 70, progressMessage: 'nearly' });
  });

  it('a task that reports no progress emits no progress event', async () => {
    const { progress } = await runAttempt(() => 'quiet');
    expect(progress).toEqual([]);
  });

  it('progress events are at least the interval apart, however changes fall around the trailing emit', async () => {
    const times: number[] = [];
    const parts = await attemptOf(
      async (ctx) => {
        ctx.progress(10);
        ctx.progress(20);
        const later = sleep(40);
        ctx.progress(30);
        await later;
        ctx.progress(50);
        await sleep(150);
        return 'done';
      },
      // A clock that stands still: every wait is the whole interval.
      { env: { progressIntervalMs: 40 } },
    );
    parts.events.on('task:progress', () => times.push(performance.now()));
    await parts.execution.run();
    expect(parts.progress.map((p) => p.progress)).toEqual([10, 30, 50]);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(30);
  });

  it('a finished attempt leaves no timer behind: neither its timeout nor a pending progress emit', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const before = timers();
    const { outcome } = await runAttempt(
      (ctx) => {
        ctx.progress(10);
        ctx.progress(20);
        return 'done';
      },
      { record: { timeoutMs: 600_000 }, env: { progressIntervalMs: 600_000 } },
    );
    expect(outcome.state).toBe('succeeded');
    // Other tests' timers may end meanwhile; none of this attempt's may be left.
    expect(timers()).toBeLessThanOrEqual(before);
  });

  it('paces by the host clock: a change once the interval has passed is announced at once', async () => {
    const parts = await attemptOf(
      (ctx) => {
        const counts: number[] = [];
        ctx.progress(10);
        counts.push(parts.progress.length);
        parts.clock.now += 100;
        ctx.progress(20);
        counts.push(parts.progress.length);
        parts.clock.now += 99;
        ctx.progress(30);
        counts.push(parts.progress.length);
        return counts;
      },
      { env: { progressIntervalMs: 100 } },
    );
    const outcome = await parts.execution.run();
    expect(outcome.result).toEqual([1, 2, 2]);
    expect(parts.progress.map((p) => p.progress)).toEqual([10, 20, 30]);
  });
});

describe('what the attempt reports around it', () => {
  /** A tracer that records what the attempt tells its span. */
  function recordingTelemetry() {
    const calls: unknown[][] = [];
    const telemetry: AttemptTelemetry = {
      startAttempt: (record) => {
        calls.push(['start', record.state, record.attempt]);
        return {
          context: ROOT_CONTEXT,
          event: (event, message) => calls.push(['event', event, message]),
          end: (record, retryable, policy) => calls.push(['end', record.state, retryable, policy]),
        };
      },
    };
    return { calls, telemetry };
  }

  it('a traced attempt opens its span running, and closes it with the end, retryability and policy', async () => {
    const { calls, telemetry } = recordingTelemetry();
    const policy = { attempts: 3 };
    await runAttempt(
      () => {
        throw new Error('flaky');
      },
      { env: { telemetry, retryPolicy: () => policy }, record: { maxAttempts: 3 } },
    );
    expect(calls).toEqual([
      ['start', 'running', 1],
      ['end', 'failed', true, policy],
    ]);
  });

  it('a cancel or an abort is an event on the span', async () => {
    const { calls, telemetry } = recordingTelemetry();
    const requested = await attemptOf(
      (ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', resolve)),
      {
        env: { telemetry },
      },
    );
    const first = requested.execution.run();
    await sleep(1);
    requested.execution.requestCancel('stop, please');
    await first;
    const aborted = await attemptOf(() => new Promise(() => {}), { env: { telemetry } });
    const second = aborted.execution.run();
    await sleep(1);
    aborted.execution.abort('timed-out', 'too slow');
    await second;
    expect(calls).toEqual([
      ['start', 'running', 1],
      ['event', 'cancelled', 'stop, please'],
      ['end', 'cancelled', false, undefined],
      ['start', 'running', 1],
      ['event', 'timed-out', 'too slow'],
      ['end', 'timed-out', false, undefined],
    ]);
  });

  it('a listener that throws is reported and does not fail the task', async () => {
    const parts = await attemptOf((ctx) => {
      ctx.log.info('line');
      ctx.progress(50);
      return 'fine';
    });
    const boom = new Error('listener broke');
    for (const event of ['task:started', 'task:log', 'task:progress'] as const) {
      parts.events.on(event, () => {
        throw boom;
      });
    }
    const outcome = await parts.execution.run();
    expect(outcome).toMatchObject({ state: 'succeeded', result: 'fine' });
    // Started, one line, one progress change: each listener throws once.
    expect(parts.errors).toEqual([boom, boom, boom]);
  });

  it('a store that refuses the running mark or a progress write is reported, and the task runs on', async () => {
    const refusing = new (class extends MemoryTaskStore {
      override async updateTask(): Promise<void> {
        throw new Error('locked');
      }
    })();
    const { outcome, errors } = await runAttempt(
      (ctx) => {
        ctx.progress(10);
        return 'ran';
      },
      { env: { store: refusing } },
    );
    expect(outcome.state).toBe('succeeded');
    expect(errors.map((e) => (e as Error).message)).toEqual(['locked', 'locked']);
  });

  it('ctx.spawn starts a child of the running task, and refuses once the task has finished', async () => {
    const spawned: [TaskRecord, unknown][] = [];
    let late: TaskContext | undefined;
    const child = new FunctionTask(() => 'child');
    const { outcome } = await runAttempt(
      async (ctx) => {
        late = ctx;
        const started = await ctx.spawn(child);
        return { id: started.id, waited: await started.wait() };
      },
      {
        env: {
          spawnChild: async (parent, request) => {
            spawned.push([parent, request]);
            return taskRecord({ id: 'child-1' });
          },
          waitForTask: async (id) => taskRecord({ id, state: 'succeeded', result: 'child' }),
        },
      },
    );
    expect(outcome.result).toMatchObject({ id: 'child-1', waited: { id: 'child-1', state: 'succeeded' } });
    expect(spawned).toHaveLength(1);
    expect(spawned[0]![0]).toMatchObject({ state: 'running', pluginId: 'sums' });
    expect(spawned[0]![1]).toBe(child);
    await expect(late!.spawn(child)).rejects.toMatchObject({ code: 'PLUGBOARD_TASK_FINISHED' });
  });

  it('ctx.spawn refuses on a runtime that cannot start children', async () => {
    const { outcome } = await runAttempt(async (ctx) => {
      await ctx.spawn(new FunctionTask(() => 'child'));
    });
    expect(outcome.error).toMatchObject({ code: 'PLUGBOARD_SPAWN_UNAVAILABLE' });
  });
});

describe('secrets of the plugin', () => {
  const secrets = ['hunter2-secret'];

  it('are replaced in log lines, status, progress text, error and result before anything is stored or sent', async () => {
    const { storedLogs, logs, progress, execution, outcome } = await runAttempt(
      (ctx) => {
        ctx.log.info('logging in with hunter2-secret');
        ctx.status('as hunter2-secret');
        ctx.progress(5, 'hunter2-secret at 5%');
        ctx.fail('rejected hunter2-secret');
        return { token: 'hunter2-secret' };
      },
      { secrets },
    );
    expect(storedLogs.map((l) => l.message)).toEqual(['logging in with [secret]']);
    expect(logs[0]!.entry.message).toBe('logging in with [secret]');
    expect(progress.at(-1)).toMatchObject({ statusText: 'as [secret]', message: '[secret] at 5%' });
    expect(outcome.error).toEqual({ code: 'PLUGBOARD_TASK_FAILED', message: 'rejected [secret]' });
    expect(execution.record).toMatchObject({ statusText: 'as [secret]', progressMessage: '[secret] at 5%' });
    const succeeded = await runAttempt(() => ({ token: 'hunter2-secret', list: ['a hunter2-secret'] }), {
      secrets,
    });
    expect(succeeded.outcome.result).toEqual({ token: '[secret]', list: ['a [secret]'] });
    expect(succeeded.stored.result).toEqual({ token: '[secret]', list: ['a [secret]'] });
  });

  it('are replaced in a thrown error and its stack, and the error is cut like a log line', async () => {
    const { outcome } = await runAttempt(
      () => {
        throw new Error(`token hunter2-secret refused ${'.'.repeat(60)}`);
      },
      { secrets, env: { maxLogLineLength: 30 } },
    );
    expect(outcome.error!.message).toBe(`token [secret] refused ${'.'.repeat(7)}… [53 characters cut]`);
    expect(outcome.error!.stack).not.toContain('hunter2-secret');
    expect(outcome.error!.stack!.startsWith('Error: token [secret] refused')).toBe(true);
    expect(outcome.error!.stack).toMatch(/^.{120}… \[\d+ characters cut\]$/s);
  });

  it('a long error is cut even without secrets, its stack to four lines worth', async () => {
    const error = new Error('e'.repeat(50));
    error.stack = `Error: ${'s'.repeat(200)}`;
    const { outcome } = await runAttempt(
      () => {
        throw error;
      },
      { env: { maxLogLineLength: 20 } },
    );
    expect(outcome.error!.message).toBe(`${'e'.repeat(20)}… [30 characters cut]`);
    expect(outcome.error!.stack).toBe(`Error: ${'s'.repeat(73)}… [127 characters cut]`);
  });

  it('a success without secrets is stored as returned', async () => {
    const { outcome } = await runAttempt(() => ({ text: 'x'.repeat(50) }), { env: { maxLogLineLength: 10 } });
    expect(outcome.result).toEqual({ text: 'x'.repeat(50) });
  });
});

describe('process.exit from a task, on a host that guards it', () => {
  const started = hostsStartedPerTest();

  class Quitter extends Task<{ code: 'long' | 'none' | 'object' | 'after-the-end' }, unknown> {
    async run() {
      const { code } = this.input;
      if (code === 'long') process.exit('x'.repeat(30) as never);
      if (code === 'none') process.exit();
      if (code === 'object') process.exit({ code: 1 } as never);
      // After run returned, from work it left running: the attempt is over and keeps its result.
      setTimeout(() => {
        try {
          process.exit(9);
        } catch (error) {
          lateRefusals.push(error);
        }
      }, 5);
      return 'returned first';
    }
  }
  const lateRefusals: unknown[] = [];

  it('fails the attempt, naming the exit code it was given (cut to 20 characters)', async () => {
    const host = await started([single('quitter', Quitter)], { guardProcessExit: true });
    const messageOf = async (code: string) => {
      const { tasks } = await host.execute('quitter', { code });
      const record = await host.tasks.wait(tasks[0]!.id);
      expect(record).toMatchObject({ state: 'failed', error: { code: 'PLUGBOARD_PROCESS_EXIT_REFUSED' } });
      return record.error!.message;
    };
    const tail = '; the host refused to end its process. Return or throw from run() instead.';
    expect(await messageOf('long')).toBe(`The task called process.exit(${'x'.repeat(20)})${tail}`);
    expect(await messageOf('none')).toBe(`The task called process.exit(undefined)${tail}`);
    expect(await messageOf('object')).toBe(`The task called process.exit(undefined)${tail}`);
  });

  it('is not retried, whatever the retry policy', async () => {
    class RetriedQuitter extends Task<Record<string, never>, unknown> {
      static override retry = { attempts: 3, backoff: { type: 'fixed', delayMs: 1 } } as const;
      async run() {
        process.exit(2);
      }
    }
    const host = await started([single('retried-quitter', RetriedQuitter)], { guardProcessExit: true });
    const { tasks } = await host.execute('retried-quitter', {});
    const record = await host.tasks.wait(tasks[0]!.id);
    expect(record).toMatchObject({
      state: 'failed',
      attempt: 1,
      error: { code: 'PLUGBOARD_PROCESS_EXIT_REFUSED' },
    });
  });

  it('after the task has ended the call is still refused, and the task keeps its end', async () => {
    const host = await started([single('quitter', Quitter)], { guardProcessExit: true });
    const { tasks } = await host.execute('quitter', { code: 'after-the-end' });
    const record = await host.tasks.wait(tasks[0]!.id);
    await sleep(30);
    expect(lateRefusals).toEqual([expect.objectContaining({ code: 'PLUGBOARD_PROCESS_EXIT_REFUSED' })]);
    expect(await host.tasks.get(record.id)).toMatchObject({ state: 'succeeded', result: 'returned first' });
  });
});
