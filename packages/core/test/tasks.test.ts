import { getEventListeners } from 'node:events';
import {
  ActionPlugin,
  createHost,
  memoryStore,
  PlugboardError,
  Task,
  type TaskContext,
  TaskError,
  type TaskProgressEvent,
  type TaskRecord,
  Type,
} from '@plugboard/core';
import { taskRecord } from '@plugboard/testing/contracts';
import { describe, expect, it } from 'vitest';
import { EchoPlugin, hostsStartedPerTest, single, sleep, WaitPlugin } from './helpers.js';

const started = hostsStartedPerTest();

describe('task states', () => {
  it('moves queued → running → succeeded and emits the task events in order', async () => {
    const host = await started([EchoPlugin], { progressIntervalMs: 0 });
    const events: string[] = [];
    for (const name of [
      'task:queued',
      'task:started',
      'task:progress',
      'task:log',
      'task:finished',
    ] as const) {
      host.events.on(name, () => events.push(name));
    }
    const { tasks } = await host.execute('echo', { text: 'hi', steps: 2 }, { user: { id: 'ada' } });
    const record = await host.tasks.wait(tasks[0]!.id);
    expect(record).toMatchObject({
      state: 'succeeded',
      result: { echoed: 'hi' },
      progress: 100,
      attempt: 1,
      error: null,
      user: { id: 'ada' },
      pluginId: 'echo',
    });
    expect(record.startedAt).toBeGreaterThanOrEqual(record.createdAt);
    expect(record.finishedAt).toBeGreaterThanOrEqual(record.startedAt!);
    expect(events).toEqual([
      'task:queued',
      'task:started',
      'task:progress',
      'task:progress',
      'task:log',
      'task:finished',
    ]);
    expect(await host.tasks.get(record.id)).toEqual(record);
  });

  it('gives run the user, the plugin properties and the task ids', async () => {
    let seen: Partial<TaskContext> = {};
    class Spy extends Task {
      run(ctx: TaskContext) {
        seen = { user: ctx.user, properties: ctx.properties, pluginId: ctx.pluginId, attempt: ctx.attempt };
        return null;
      }
    }
    class SpyPlugin extends ActionPlugin({
      id: 'spy',
      name: 'Spy',
      properties: Type.Object({ region: Type.String({ default: 'eu' }) }),
      tasks: [Spy],
    }) {
      createTasks() {
        return new Spy({});
      }
    }
    const host = await started([SpyPlugin]);
    const { tasks } = await host.execute('spy', {}, { user: { id: 'bo', name: 'Bo' } });
    await host.tasks.wait(tasks[0]!.id);
    expect(seen).toEqual({
      user: { id: 'bo', name: 'Bo' },
      properties: { region: 'eu' },
      pluginId: 'spy',
      attempt: 1,
    });
  });

  it('records a throwing task as failed with code, message and stack', async () => {
    class Boom extends Task {
      run(): never {
        throw new Error('disk full');
      }
    }
    const host = await started([single('boom', Boom)]);
    const { tasks } = await host.execute('boom', {});
    const record = await host.tasks.wait(tasks[0]!.id);
    expect(record.state).toBe('failed');
    expect(record.error).toMatchObject({ code: 'PLUGBOARD_TASK_FAILED', message: 'disk full' });
    expect(record.error?.stack).toContain('disk full');
  });

  it('describes a thrown value that is not an Error', async () => {
    class Odd extends Task {
      run(): never {
        throw { reason: 'weird' };
      }
    }
    const host = await started([single('odd', Odd)]);
    const record = await host.tasks.wait((await host.execute('odd', {})).tasks[0]!.id);
    expect(record.error).toEqual({
      code: 'PLUGBOARD_TASK_FAILED',
      message: 'non-Error value thrown: {"reason":"weird"}',
    });
  });

  it('lets a task mark itself failed with a reason without throwing', async () => {
    class Picky extends Task {
      run(ctx: TaskContext) {
        ctx.fail('The source folder is empty.');
        return 'ignored';
      }
    }
    const host = await started([single('picky', Picky)]);
    const record = await host.tasks.wait((await host.execute('picky', {})).tasks[0]!.id);
    expect(record).toMatchObject({
      state: 'failed',
      result: null,
      error: { code: 'PLUGBOARD_TASK_FAILED', message: 'The source folder is empty.' },
    });
  });

  it('fails a task whose result is not JSON-serialisable', async () => {
    class Big extends Task {
      run() {
        return { n: 10n };
      }
    }
    const host = await started([single('big', Big)]);
    const record = await host.tasks.wait((await host.execute('big', {})).tasks[0]!.id);
    expect(record.state).toBe('failed');
    expect(record.error?.message).toContain("The task's result is not JSON-serialisable");
  });
});

describe('cancellation and timeouts', () => {
  it('removes a queued task without running it', async () => {
    const host = await started([WaitPlugin], { concurrency: 1 });
    const blocker = (await host.execute('wait', { ms: 10_000 })).tasks[0]!;
    const queued = (await host.execute('wait', { ms: 1 })).tasks[0]!;
    const cancelled = await host.tasks.cancel(queued.id);
    expect(cancelled).toMatchObject({
      state: 'cancelled',
      startedAt: null,
      error: { code: 'PLUGBOARD_TASK_CANCELLED' },
    });
    const ran: string[] = [];
    host.events.on('task:started', (record) => ran.push(record.id));
    const after = (await host.execute('wait', { ms: 1 })).tasks[0]!;
    await host.tasks.cancel(blocker.id);
    // One slot, first in first out: the task queued last runs only after the queue has passed the cancelled one.
    expect((await host.tasks.wait(after.id)).state).toBe('succeeded');
    expect(ran).toEqual([after.id]);
    expect(await host.tasks.get(queued.id)).toMatchObject({
      state: 'cancelled',
      startedAt: null,
      result: null,
    });
  });

  it('aborts the signal of a running task and records it cancelled', async () => {
    const host = await started([WaitPlugin]);
    const { tasks } = await host.execute('wait', { ms: 10_000 });
    await sleep(30);
    expect((await host.tasks.get(tasks[0]!.id))?.state).toBe('running');
    const record = await host.tasks.cancel(tasks[0]!.id);
    expect(record).toMatchObject({ state: 'cancelled', error: { code: 'PLUGBOARD_TASK_CANCELLED' } });
    await expect(host.tasks.cancel(record.id)).rejects.toMatchObject({ code: 'PLUGBOARD_TASK_FINISHED' });
  });

  it('with waitForStop a cancelled task is recorded cancelled only once its code has stopped', async () => {
    let signal: AbortSignal | undefined;
    let returned = false;
    class Slow extends Task {
      async run(ctx: TaskContext) {
        signal = ctx.signal;
        await sleep(300);
        returned = true;
        return 'late';
      }
    }
    const host = await started([single('slow', Slow)]);
    const { tasks } = await host.execute('slow', {});
    await sleep(30);
    const cancelling = host.tasks.cancel(tasks[0]!.id, { waitForStop: true });
    await sleep(50);
    expect(signal?.aborted).toBe(true);
    expect((signal!.reason as { code: string }).code).toBe('PLUGBOARD_TASK_CANCELLED');
    expect((await host.tasks.get(tasks[0]!.id))?.state).toBe('running');
    const record = await cancelling;
    expect(returned).toBe(true);
    expect(record).toMatchObject({
      state: 'cancelled',
      result: null,
      error: { code: 'PLUGBOARD_TASK_CANCELLED', message: 'The task was cancelled while it ran.' },
    });
  });

  it('with waitForStop a task that ignores its signal is recorded interrupted when the host stops', async () => {
    class Deaf extends Task {
      async run() {
        await sleep(5000);
      }
    }
    const host = await started([single('deaf', Deaf)]);
    const { tasks } = await host.execute('deaf', {});
    await sleep(30);
    const cancelling = host.tasks.cancel(tasks[0]!.id, { waitForStop: true });
    await sleep(100);
    expect((await host.tasks.get(tasks[0]!.id))?.state).toBe('running');
    const waiting = host.tasks.wait(tasks[0]!.id);
    await host.stop({ timeoutMs: 0 });
    expect(await waiting).toMatchObject({
      state: 'interrupted',
      error: { code: 'PLUGBOARD_TASK_INTERRUPTED' },
    });
    expect(await cancelling).toMatchObject({ state: 'interrupted' });
  });

  it('records timed-out on time even when the task ignores its signal', async () => {
    let signal: AbortSignal | undefined;
    class Stubborn extends Task {
      async run(ctx: TaskContext) {
        signal = ctx.signal;
        await sleep(1000);
        return 'too late';
      }
    }
    const host = await started([single('stubborn', Stubborn, { timeoutMs: 100 })]);
    const started_ = Date.now();
    const record = await host.tasks.wait((await host.execute('stubborn', {})).tasks[0]!.id);
    expect(Date.now() - started_).toBeLessThan(800);
    expect(record).toMatchObject({
      state: 'timed-out',
      timeoutMs: 100,
      error: { code: 'PLUGBOARD_TASK_TIMED_OUT', message: 'The task ran longer than its timeout of 100 ms.' },
    });
    expect(signal?.aborted).toBe(true);
    expect((signal!.reason as { code: string }).code).toBe('PLUGBOARD_TASK_TIMED_OUT');
    await sleep(1000);
    expect((await host.tasks.get(record.id))?.state).toBe('timed-out');
  });

  it('takes a per-execution timeout over the plugin default', async () => {
    const host = await started([WaitPlugin]);
    const { tasks } = await host.execute('wait', { ms: 5000 }, { timeoutMs: 50 });
    expect((await host.tasks.wait(tasks[0]!.id)).state).toBe('timed-out');
  });

  it('runs higher priority tasks first', async () => {
    const host = await started([WaitPlugin, EchoPlugin], { concurrency: 1 });
    const order: string[] = [];
    host.events.on('task:started', (r) =>
      order.push(String((r.input as { text?: string }).text ?? 'blocker')),
    );
    const blocker = (await host.execute('wait', { ms: 50 })).tasks[0]!;
    const low = (await host.execute('echo', { text: 'low' })).tasks[0]!;
    const high = (await host.execute('echo', { text: 'high' }, { priority: 10 })).tasks[0]!;
    await Promise.all([blocker, low, high].map((t) => host.tasks.wait(t.id)));
    expect(order).toEqual(['blocker', 'high', 'low']);
  });
});

describe('waiting', () => {
  it('stops waiting when its signal aborts, and keeps no listener on a signal shared by many waits', async () => {
    const host = await started([EchoPlugin, WaitPlugin]);
    const shared = new AbortController();
    for (let i = 0; i < 20; i++) {
      const { tasks } = await host.execute('echo', { text: `t${i}` });
      await host.tasks.wait(tasks[0]!.id, { signal: shared.signal });
    }
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);

    const slow = (await host.execute('wait', { ms: 5_000 })).tasks[0]!;
    const stop = new AbortController();
    const waiting = host.tasks.wait(slow.id, { signal: stop.signal });
    stop.abort(new Error('no longer needed'));
    await expect(waiting).rejects.toThrow('no longer needed');
    await expect(host.tasks.wait(slow.id, { signal: stop.signal })).rejects.toThrow('no longer needed');
    expect((await host.tasks.get(slow.id))?.state).toBe('running');
  });
});

describe('retries', () => {
  it('retries a failing task with backoff until it succeeds', async () => {
    let runs = 0;
    class Flaky extends Task {
      static override retry = { attempts: 3, backoff: { type: 'fixed' as const, delayMs: 10 } };
      run(ctx: TaskContext) {
        runs++;
        if (ctx.attempt < 3) throw new Error(`attempt ${ctx.attempt} failed`);
        return 'third time lucky';
      }
    }
    const host = await started([single('flaky', Flaky)]);
    const queued: number[] = [];
    host.events.on('task:queued', (r) => queued.push(r.attempt));
    const record = await host.tasks.wait((await host.execute('flaky', {})).tasks[0]!.id);
    expect(record).toMatchObject({
      state: 'succeeded',
      attempt: 3,
      maxAttempts: 3,
      result: 'third time lucky',
      error: null,
    });
    expect(runs).toBe(3);
    expect(queued).toEqual([1, 2, 3]);
  });

  it('stops retrying on an error marked non-retryable', async () => {
    let runs = 0;
    class Fatal extends Task {
      static override retry = { attempts: 5, backoff: { type: 'fixed' as const, delayMs: 1 } };
      run(): never {
        runs++;
        throw new TaskError('The file is corrupt.', { code: 'MEDIA_CORRUPT', retryable: false });
      }
    }
    const host = await started([single('fatal', Fatal)]);
    const record = await host.tasks.wait((await host.execute('fatal', {})).tasks[0]!.id);
    expect(record).toMatchObject({
      state: 'failed',
      attempt: 1,
      error: { code: 'MEDIA_CORRUPT', message: 'The file is corrupt.' },
    });
    expect(runs).toBe(1);
  });
});

describe('shutdown', () => {
  it('lets running tasks finish within the timeout and records the rest interrupted', async () => {
    const store = memoryStore();
    const host = await started([WaitPlugin], { store, concurrency: 2 });
    const quick = (await host.execute('wait', { ms: 50 })).tasks[0]!;
    const slow = (await host.execute('wait', { ms: 60_000 })).tasks[0]!;
    await sleep(20);
    await host.stop({ timeoutMs: 200 });
    expect((await store.getTask(quick.id))?.state).toBe('succeeded');
    expect(await store.getTask(slow.id)).toMatchObject({
      state: 'interrupted',
      error: { code: 'PLUGBOARD_TASK_INTERRUPTED' },
    });
  });

  it('keeps queued tasks queued in the store so a persistent store can resume them', async () => {
    const store = memoryStore();
    const host = await started([WaitPlugin], { store, concurrency: 1 });
    await host.execute('wait', { ms: 30 });
    const waiting = (await host.execute('wait', { ms: 30 })).tasks[0]!;
    await host.stop({ timeoutMs: 1000 });
    expect((await store.getTask(waiting.id))?.state).toBe('queued');
  });

  it('ignores a task that rejects after the host stopped', async () => {
    class Late extends Task {
      async run() {
        await sleep(150);
        throw new Error('late failure');
      }
    }
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const store = memoryStore();
    const host = await started([single('late', Late)], { store });
    const { tasks } = await host.execute('late', {});
    await sleep(20);
    await host.stop({ timeoutMs: 10 });
    await sleep(250);
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).toEqual([]);
    expect((await store.getTask(tasks[0]!.id))?.state).toBe('interrupted');
  });
});

describe('recovery on start', () => {
  it('numbers the recovery note after the last log line stored, even when the record lags behind', async () => {
    const store = memoryStore();
    await store.open();
    // A crash after the log lines reached the store but before the record's logCount was updated.
    const record = taskRecord({ pluginId: 'wait', taskType: 'wait/WaitTask', state: 'running', logCount: 2 });
    await store.insertTask(record);
    await store.appendLogs(
      record.id,
      [1, 2, 3, 4].map((seq) => ({ seq, time: 1, level: 'info' as const, message: `line ${seq}` })),
    );
    await store.close();
    const host = await started([WaitPlugin], { store });
    const after = await host.tasks.get(record.id);
    expect(after).toMatchObject({ state: 'interrupted', logCount: 5 });
    const logs = await host.tasks.logs(record.id);
    expect(logs.map((line) => line.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(logs[4]).toMatchObject({ level: 'always', message: expect.stringContaining('stopped') });
  });

  it('rethrows a coded error from the store as is', async () => {
    const store = memoryStore();
    const open = store.open.bind(store);
    store.open = async () => {
      await open();
      throw new PlugboardError('PLUGBOARD_STORE_NEWER_VERSION', 'The store was written by a newer version.');
    };
    const host = createHost({ store });
    await expect(host.start()).rejects.toMatchObject({ code: 'PLUGBOARD_STORE_NEWER_VERSION' });
  });

  it('wraps any other store failure in PLUGBOARD_STORE_UNAVAILABLE with the cause', async () => {
    const store = memoryStore();
    const cause = new Error('EACCES: permission denied');
    store.open = async () => {
      throw cause;
    };
    const error = await createHost({ store })
      .start()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PLUGBOARD_STORE_UNAVAILABLE', cause });
  });
});

describe('fairness', () => {
  it('lets timers and I/O run while thousands of tasks finish without awaiting anything', async () => {
    class Instant extends Task {
      async run() {
        return null;
      }
    }
    const host = await started([single('instant', Instant)], { concurrency: 4 });
    let finished = 0;
    let finishedWhenImmediateRan: number | undefined;
    let finishedWhenTimerFired: number | undefined;
    host.events.on('task:finished', () => finished++);
    const all = Promise.all(Array.from({ length: 2000 }, () => host.execute('instant', {})));
    setImmediate(() => {
      finishedWhenImmediateRan = finished;
    });
    setTimeout(() => {
      finishedWhenTimerFired = finished;
    }, 0);
    await all;
    while (finished < 2000) await sleep(5);
    // Both ran while tasks were still finishing, not after the whole batch.
    expect(finishedWhenImmediateRan).toBeLessThan(2000);
    expect(finishedWhenTimerFired).toBeLessThan(2000);
  });
});

describe('monitoring', () => {
  it('coalesces progress so a task reporting a million times does not flood listeners', async () => {
    class Chatty extends Task {
      async run(ctx: TaskContext) {
        for (let i = 0; i <= 1_000_000; i++) {
          // The pause comes before the report, so the last report (100) is followed by the return at once.
          if (i % 100_000 === 0) await sleep(5);
          ctx.progress(i / 10_000);
        }
        return 'done';
      }
    }
    const host = await started([single('chatty', Chatty)], { progressIntervalMs: 50 });
    const events: TaskProgressEvent[] = [];
    const times: number[] = [];
    host.events.on('task:progress', (e) => {
      events.push(e);
      times.push(performance.now());
    });
    const begun = performance.now();
    const record = await host.tasks.wait((await host.execute('chatty', {})).tasks[0]!.id);
    const elapsed = performance.now() - begun;
    expect(record.state).toBe('succeeded');
    // The first report at once, then at most one per 50 ms, then the last one when the task ends.
    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(events.length).toBeLessThanOrEqual(Math.floor(elapsed / 50) + 2);
    for (let i = 1; i < times.length - 1; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(45);
    expect(events.map((e) => e.progress)).toEqual([...events.map((e) => e.progress)].sort((a, b) => a - b));
    expect(events.at(-1)?.progress).toBe(100);
  });

  it('sends the last progress of a task that reports and returns at once, before task:finished', async () => {
    class Hasty extends Task {
      run(ctx: TaskContext) {
        ctx.progress(10, 'begun');
        ctx.progress(60, 'most of it');
        return 'done';
      }
    }
    // An interval longer than the test: only the end of the task can send the second report.
    const host = await started([single('hasty', Hasty)], { progressIntervalMs: 60_000 });
    const seen: string[] = [];
    host.events.on('task:progress', (e) => seen.push(`${e.progress} ${e.message}`));
    host.events.on('task:finished', () => seen.push('finished'));
    const record = await host.tasks.wait((await host.execute('hasty', {})).tasks[0]!.id);
    expect(seen).toEqual(['10 begun', '60 most of it', 'finished']);
    expect(record).toMatchObject({ state: 'succeeded', progress: 100, progressMessage: 'most of it' });
  });

  it('clamps progress to 0..100 and ignores NaN; status text is recorded', async () => {
    class Wild extends Task {
      run(ctx: TaskContext) {
        ctx.progress(250, 'overshoot');
        ctx.progress(Number.NaN);
        ctx.status('checking files');
        ctx.progress(-5);
        return null;
      }
    }
    const host = await started([single('wild', Wild)], { progressIntervalMs: 0 });
    const seen: number[] = [];
    host.events.on('task:progress', (e) => seen.push(e.progress));
    const record = await host.tasks.wait((await host.execute('wild', {})).tasks[0]!.id);
    expect(seen).toEqual([100, 100, 0]);
    expect(record).toMatchObject({ statusText: 'checking files', progressMessage: 'overshoot' });
  });

  it('keeps a levelled log, filters below the host level, always keeps `always`, and pages by seq', async () => {
    class Logger extends Task {
      run(ctx: TaskContext) {
        ctx.log.debug('hidden');
        ctx.log.info('one');
        ctx.log.warn('two');
        ctx.log.error('three');
        ctx.log.critical('four');
        ctx.log.always('five');
        ctx.log.info('x'.repeat(200));
        return null;
      }
    }
    const host = await started([single('logger', Logger)], { logLevel: 'info', maxLogLineLength: 100 });
    const record = await host.tasks.wait((await host.execute('logger', {})).tasks[0]!.id);
    const logs = await host.tasks.logs(record.id);
    expect(logs.map((l) => [l.seq, l.level, l.message.slice(0, 10)])).toEqual([
      [1, 'info', 'one'],
      [2, 'warn', 'two'],
      [3, 'error', 'three'],
      [4, 'critical', 'four'],
      [5, 'always', 'five'],
      [6, 'info', 'xxxxxxxxxx'],
    ]);
    expect(logs[5]?.message).toBe(`${'x'.repeat(100)}… [100 characters cut]`);
    expect((await host.tasks.logs(record.id, { after: 4 })).map((l) => l.seq)).toEqual([5, 6]);
    expect(record.logCount).toBe(6);

    const quiet = await started([single('logger', Logger)], { logLevel: 'critical' });
    const r2 = await quiet.tasks.wait((await quiet.execute('logger', {})).tasks[0]!.id);
    expect((await quiet.tasks.logs(r2.id)).map((l) => l.message)).toEqual(['four', 'five']);
  });

  it('lists tasks newest first, filtered by user, plugin and state, with cursor paging', async () => {
    const host = await started([EchoPlugin, WaitPlugin]);
    const made: TaskRecord[] = [];
    for (let i = 0; i < 5; i++)
      made.push(...(await host.execute('echo', { text: `a${i}` }, { user: { id: 'ann' } })).tasks);
    made.push(...(await host.execute('echo', { text: 'b' }, { user: { id: 'bob' } })).tasks);
    const waiting = (await host.execute('wait', { ms: 10_000 }, { user: { id: 'ann' } })).tasks[0]!;
    await Promise.all(made.map((t) => host.tasks.wait(t.id)));

    const page1 = await host.tasks.list({ user: 'ann', plugin: 'echo', limit: 2 });
    expect(page1.items.map((t) => (t.input as { text: string }).text)).toEqual(['a4', 'a3']);
    const page2 = await host.tasks.list({ user: 'ann', plugin: 'echo', limit: 2, cursor: page1.nextCursor! });
    expect(page2.items.map((t) => (t.input as { text: string }).text)).toEqual(['a2', 'a1']);
    const page3 = await host.tasks.list({ user: 'ann', plugin: 'echo', limit: 2, cursor: page2.nextCursor! });
    expect(page3.items.map((t) => (t.input as { text: string }).text)).toEqual(['a0']);
    expect(page3.nextCursor).toBeNull();
    expect((await host.tasks.list({ state: 'running' })).items.map((t) => t.id)).toEqual([waiting.id]);
    expect((await host.tasks.list({ state: ['running', 'succeeded'], user: 'bob' })).items).toHaveLength(1);
    await expect(host.tasks.list({ cursor: '!!' })).rejects.toMatchObject({
      code: 'PLUGBOARD_INVALID_ARGUMENTS',
      details: { fields: [{ path: '/cursor', message: 'is not a cursor returned by a previous page' }] },
    });
    await expect(host.tasks.list({ limit: 0 })).rejects.toMatchObject({
      code: 'PLUGBOARD_INVALID_ARGUMENTS',
    });
    await host.tasks.cancel(waiting.id);
  });

  it('answers unknown task ids with a coded error', async () => {
    const host = await started([EchoPlugin]);
    await expect(host.tasks.wait('missing')).rejects.toMatchObject({
      code: 'PLUGBOARD_UNKNOWN_TASK',
      status: 404,
    });
    await expect(host.tasks.cancel('missing')).rejects.toMatchObject({ code: 'PLUGBOARD_UNKNOWN_TASK' });
    await expect(host.tasks.logs('missing')).rejects.toMatchObject({ code: 'PLUGBOARD_UNKNOWN_TASK' });
    expect(await host.tasks.get('missing')).toBeUndefined();
  });
});

describe('retention', () => {
  it('keeps at most the configured number of finished tasks and log lines, so memory stays flat', async () => {
    class Verbose extends Task {
      run(ctx: TaskContext) {
        for (let i = 1; i <= 50; i++) ctx.log.info(`line ${i}`);
        return null;
      }
    }
    const store = memoryStore({ maxFinishedTasks: 5, maxLogEntriesPerTask: 10 });
    const host = await started([EchoPlugin, single('verbose', Verbose)], { store });
    for (let i = 0; i < 20; i++) {
      const { tasks } = await host.execute('echo', { text: String(i) });
      await host.tasks.wait(tasks[0]!.id);
    }
    expect(store.size).toBe(5);
    expect(
      (await host.tasks.list({ limit: 100 })).items.map((t) => (t.input as { text: string }).text),
    ).toEqual(['19', '18', '17', '16', '15']);
    const verbose = await host.tasks.wait((await host.execute('verbose', {})).tasks[0]!.id);
    await sleep(10);
    const logs = await host.tasks.logs(verbose.id);
    expect(logs.map((l) => l.seq)).toEqual([41, 42, 43, 44, 45, 46, 47, 48, 49, 50]);
  });

  it('keeps the last log lines of a batch larger than the limit, and holds its own copy of each batch', async () => {
    const store = memoryStore({ maxLogEntriesPerTask: 3 });
    const record = taskRecord({ state: 'running' });
    await store.insertTask(record);
    const line = (seq: number) => ({ seq, time: seq, level: 'info' as const, message: `line ${seq}` });
    const batch = [1, 2, 3, 4, 5].map(line);
    await store.appendLogs(record.id, batch);
    batch.push(line(6));
    expect((await store.getLogs(record.id)).map((l) => l.seq)).toEqual([3, 4, 5]);
    await store.appendLogs(record.id, [line(7)]);
    expect((await store.getLogs(record.id)).map((l) => l.seq)).toEqual([4, 5, 7]);
  });

  it('evicts finished tasks older than the age limit', async () => {
    let now = 1_000_000;
    const store = memoryStore({ maxFinishedAgeMs: 1000, now: () => now });
    const host = await started([EchoPlugin], { store });
    const { tasks } = await host.execute('echo', { text: 'old' });
    await host.tasks.wait(tasks[0]!.id);
    now += 5000;
    expect(await host.tasks.get(tasks[0]!.id)).toBeUndefined();
  });
});
