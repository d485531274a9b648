import {
  ActionPlugin,
  createHost,
  type Host,
  type HostOptions,
  type PluginClass,
  Task,
  type TaskContext,
  TaskError,
  type TaskRecord,
  Type,
} from '@plugboard/core';
import { afterEach, describe, expect, it } from 'vitest';

/** What a runtime under test needs to know about the host it will serve. */
export interface RuntimeSetup {
  /** The plugin classes the host discovers; a remote runtime's workers need the same. */
  readonly plugins: readonly PluginClass[];
  /** How many tasks may run at once. */
  readonly concurrency: number;
}

/** Host options that make a host use the runtime, and how to stop what runs beside it (workers...). */
export interface RuntimeUnderTest {
  /** Host options that make the host use the runtime (`runtime`, and a shared `store` if it needs one). */
  readonly options: Partial<HostOptions>;
  /** Stops what runs beside the host (workers, connections) once the test is over. */
  close?(): Promise<void>;
}

/** Builds a fresh runtime for one test. */
export type RuntimeFactory = (setup: RuntimeSetup) => RuntimeUnderTest | Promise<RuntimeUnderTest>;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A plugin that runs one task of the given class, built from the arguments. */
function single(id: string, taskClass: new (input: any) => Task, options: { timeoutMs?: number } = {}) {
  return class extends ActionPlugin({
    id,
    name: id,
    args: Type.Object({}, { additionalProperties: true }),
    tasks: [taskClass as never],
    timeoutMs: options.timeoutMs,
  }) {
    createTasks(args: Record<string, unknown>) {
      return new taskClass(args);
    }
  };
}

class Echo extends Task<{ text: string; steps?: number }> {
  async run(ctx: TaskContext) {
    const steps = this.input.steps ?? 0;
    for (let i = 1; i <= steps; i++) ctx.progress((i / steps) * 100, `step ${i}`);
    ctx.log.info(`echo ${this.input.text}`);
    return { echoed: this.input.text };
  }
}

/** Waits `ms` unless its signal aborts, then throws the abort reason. */
class Wait extends Task<{ ms: number }> {
  async run(ctx: TaskContext) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, this.input.ms);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(ctx.signal.reason);
      });
    });
    return { waited: this.input.ms };
  }
}

/**
 * Listens for `task:started` from now on, so a task that starts before `execute` resolves is not missed.
 * Returns a function that resolves once the given task has started, with its record.
 */
function watchStarts(host: Host): (id: string) => Promise<TaskRecord> {
  const seen = new Map<string, TaskRecord>();
  const waiting = new Map<string, (record: TaskRecord) => void>();
  host.events.on('task:started', (record) => {
    seen.set(record.id, record);
    waiting.get(record.id)?.(record);
  });
  return (id) => {
    const record = seen.get(id);
    return record ? Promise.resolve(record) : new Promise((resolve) => waiting.set(id, resolve));
  };
}

/**
 * The behaviour every task runtime owes a host, whatever runs the tasks: states and events, results and errors,
 * progress, status text and levelled logs, cancellation of queued and running tasks, timeouts, priorities and
 * retries with backoff. A runtime passes when `host.tasks.*` and `host.events` look the same as in-process.
 */
export function describeRuntimeContract(name: string, makeRuntime: RuntimeFactory): void {
  describe(`task runtime contract: ${name}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    async function started(plugins: PluginClass[], options: HostOptions & { concurrency?: number } = {}) {
      const made = await makeRuntime({ plugins, concurrency: options.concurrency ?? 4 });
      if (made.close) cleanups.push(() => made.close!());
      const host: Host = createHost({
        env: false,
        argv: [],
        plugins: { classes: plugins },
        ...options,
        ...made.options,
      });
      await host.start();
      cleanups.push(() => host.stop({ timeoutMs: 200 }));
      return host;
    }

    function executeOne(host: Host, id: string, args: unknown = {}, options = {}) {
      return host.execute(id, args, options).then((r) => r.tasks[0]!);
    }

    it('moves queued → running → succeeded and emits the task events in order', async () => {
      const host = await started([single('echo', Echo)], { progressIntervalMs: 0 });
      const events: string[] = [];
      for (const event of [
        'task:queued',
        'task:started',
        'task:progress',
        'task:log',
        'task:finished',
      ] as const) {
        host.events.on(event, () => events.push(event));
      }
      const queued = await executeOne(host, 'echo', { text: 'hi', steps: 2 }, { user: { id: 'ada' } });
      expect(queued.state).toBe('queued');
      const record = await host.tasks.wait(queued.id);
      expect(record).toMatchObject({
        state: 'succeeded',
        result: { echoed: 'hi' },
        progress: 100,
        progressMessage: 'step 2',
        attempt: 1,
        error: null,
        user: { id: 'ada' },
        pluginId: 'echo',
        logCount: 1,
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

    it('shows a task as running while it runs', async () => {
      const host = await started([single('wait', Wait)]);
      const startOf = watchStarts(host);
      const task = await executeOne(host, 'wait', { ms: 400 });
      const running = await startOf(task.id);
      expect(running.state).toBe('running');
      expect((await host.tasks.get(task.id))?.state).toBe('running');
      expect((await host.tasks.list({ state: 'running' })).items.map((t) => t.id)).toEqual([task.id]);
      expect((await host.tasks.wait(task.id)).state).toBe('succeeded');
    });

    it('gives run the user, the attempt and the plugin properties', async () => {
      class Spy extends Task {
        run(ctx: TaskContext) {
          return { user: ctx.user, properties: ctx.properties, pluginId: ctx.pluginId, attempt: ctx.attempt };
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
      const record = await host.tasks.wait(
        (await executeOne(host, 'spy', {}, { user: { id: 'bo', name: 'Bo' } })).id,
      );
      expect(record.result).toEqual({
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
      const record = await host.tasks.wait((await executeOne(host, 'boom')).id);
      expect(record).toMatchObject({
        state: 'failed',
        result: null,
        error: { code: 'PLUGBOARD_TASK_FAILED', message: 'disk full' },
      });
      expect(record.error?.stack).toContain('disk full');
    });

    it('records a reason given to ctx.fail and a coded TaskError', async () => {
      class Picky extends Task {
        run(ctx: TaskContext) {
          ctx.fail('The source folder is empty.');
          return 'ignored';
        }
      }
      class Corrupt extends Task {
        run(): never {
          throw new TaskError('The file is corrupt.', { code: 'MEDIA_CORRUPT', retryable: false });
        }
      }
      const host = await started([single('picky', Picky), single('corrupt', Corrupt)]);
      const picky = await host.tasks.wait((await executeOne(host, 'picky')).id);
      expect(picky).toMatchObject({
        state: 'failed',
        result: null,
        error: { code: 'PLUGBOARD_TASK_FAILED', message: 'The source folder is empty.' },
      });
      const corrupt = await host.tasks.wait((await executeOne(host, 'corrupt')).id);
      expect(corrupt.error).toMatchObject({ code: 'MEDIA_CORRUPT', message: 'The file is corrupt.' });
    });

    it('fails a task whose result is not JSON-serialisable', async () => {
      class Big extends Task {
        run() {
          return { n: 10n };
        }
      }
      const host = await started([single('big', Big)]);
      const record = await host.tasks.wait((await executeOne(host, 'big')).id);
      expect(record.state).toBe('failed');
      expect(record.error?.message).toContain("The task's result is not JSON-serialisable");
    });

    it('records progress, clamped, with its message and the status text', async () => {
      class Wild extends Task {
        run(ctx: TaskContext) {
          ctx.progress(250, 'overshoot');
          ctx.progress(Number.NaN);
          ctx.status('checking files');
          ctx.progress(-5);
          ctx.fail('stop here, so progress is not set to 100', { retryable: false });
          return null;
        }
      }
      const host = await started([single('wild', Wild)], { progressIntervalMs: 0 });
      const seen: Array<[number, string | null]> = [];
      host.events.on('task:progress', (e) => seen.push([e.progress, e.statusText]));
      const record = await host.tasks.wait((await executeOne(host, 'wild')).id);
      expect(seen).toEqual([
        [100, null],
        [100, 'checking files'],
        [0, 'checking files'],
      ]);
      expect(record).toMatchObject({
        progress: 0,
        statusText: 'checking files',
        progressMessage: 'overshoot',
      });
    });

    it('keeps a levelled log filtered by the host level, cut to the line length, paged by seq', async () => {
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
      const lines: string[] = [];
      host.events.on('task:log', (e) => lines.push(`${e.entry.seq}:${e.entry.level}`));
      const record = await host.tasks.wait((await executeOne(host, 'logger')).id);
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
      expect(lines).toEqual(['1:info', '2:warn', '3:error', '4:critical', '5:always', '6:info']);
    });

    it('cancels a queued task without running it', async () => {
      const host = await started([single('wait', Wait)], { concurrency: 1 });
      const startedIds: string[] = [];
      const finishes: Record<string, number> = {};
      host.events.on('task:started', (record) => startedIds.push(record.id));
      host.events.on('task:finished', (record) => {
        finishes[record.id] = (finishes[record.id] ?? 0) + 1;
      });
      const blocker = await executeOne(host, 'wait', { ms: 10_000 });
      const queued = await executeOne(host, 'wait', { ms: 1 });
      const after = await executeOne(host, 'wait', { ms: 1 });
      const cancelled = await host.tasks.cancel(queued.id);
      expect(cancelled).toMatchObject({
        state: 'cancelled',
        startedAt: null,
        error: { code: 'PLUGBOARD_TASK_CANCELLED' },
      });
      expect((await host.tasks.cancel(blocker.id)).state).toBe('cancelled');
      // One slot, first in first out: once the task queued after it has run, the queue has passed the cancelled one.
      expect((await host.tasks.wait(after.id)).state).toBe('succeeded');
      expect(await host.tasks.get(queued.id)).toMatchObject({
        state: 'cancelled',
        startedAt: null,
        result: null,
        error: { code: 'PLUGBOARD_TASK_CANCELLED' },
      });
      expect(startedIds).not.toContain(queued.id);
      expect(finishes[queued.id]).toBe(1);
    });

    it('aborts the signal of a running task and records it cancelled', async () => {
      let reason: unknown;
      class Listening extends Task {
        async run(ctx: TaskContext) {
          await new Promise<void>((_resolve, reject) =>
            ctx.signal.addEventListener('abort', () => {
              reason = ctx.signal.reason;
              reject(ctx.signal.reason);
            }),
          );
        }
      }
      const host = await started([single('listening', Listening)]);
      const startOf = watchStarts(host);
      const task = await executeOne(host, 'listening');
      await startOf(task.id);
      const record = await host.tasks.cancel(task.id);
      expect(record).toMatchObject({ state: 'cancelled', error: { code: 'PLUGBOARD_TASK_CANCELLED' } });
      expect((reason as { code?: string }).code).toBe('PLUGBOARD_TASK_CANCELLED');
      await expect(host.tasks.cancel(task.id)).rejects.toMatchObject({ code: 'PLUGBOARD_TASK_FINISHED' });
    });

    it('records timed-out on time even when the task ignores its signal', async () => {
      let aborted: string | undefined;
      class Stubborn extends Task {
        async run(ctx: TaskContext) {
          ctx.signal.addEventListener('abort', () => {
            aborted = (ctx.signal.reason as { code: string }).code;
          });
          await sleep(1500);
          return 'too late';
        }
      }
      const host = await started([single('stubborn', Stubborn, { timeoutMs: 150 })]);
      const begun = Date.now();
      const record = await host.tasks.wait((await executeOne(host, 'stubborn')).id);
      expect(Date.now() - begun).toBeLessThan(1200);
      expect(record).toMatchObject({
        state: 'timed-out',
        timeoutMs: 150,
        error: {
          code: 'PLUGBOARD_TASK_TIMED_OUT',
          message: 'The task ran longer than its timeout of 150 ms.',
        },
      });
      expect(aborted).toBe('PLUGBOARD_TASK_TIMED_OUT');
      await sleep(1500);
      expect((await host.tasks.get(record.id))?.state).toBe('timed-out');
    });

    it('takes a per-execution timeout over the plugin default', async () => {
      const host = await started([single('wait', Wait)]);
      const task = await executeOne(host, 'wait', { ms: 5000 }, { timeoutMs: 100 });
      expect((await host.tasks.wait(task.id)).state).toBe('timed-out');
    });

    it('runs higher priority tasks first', async () => {
      const host = await started([single('wait', Wait), single('echo', Echo)], { concurrency: 1 });
      const order: string[] = [];
      host.events.on('task:started', (r) =>
        order.push(String((r.input as { text?: string }).text ?? 'blocker')),
      );
      const startOf = watchStarts(host);
      const blocker = await executeOne(host, 'wait', { ms: 300 });
      await startOf(blocker.id);
      const low = await executeOne(host, 'echo', { text: 'low' }, { priority: -5 });
      const plain = await executeOne(host, 'echo', { text: 'plain' });
      const high = await executeOne(host, 'echo', { text: 'high' }, { priority: 10 });
      await Promise.all([blocker, low, plain, high].map((t) => host.tasks.wait(t.id)));
      expect(order).toEqual(['blocker', 'high', 'plain', 'low']);
    });

    it('retries a failing task with its backoff until it succeeds, recording each attempt', async () => {
      class Flaky extends Task {
        static override retry = { attempts: 3, backoff: { type: 'fixed' as const, delayMs: 200 } };
        run(ctx: TaskContext) {
          if (ctx.attempt < 3) throw new Error(`attempt ${ctx.attempt} failed`);
          return `succeeded on attempt ${ctx.attempt}`;
        }
      }
      const host = await started([single('flaky', Flaky)]);
      const queued: number[] = [];
      const startedAt: number[] = [];
      host.events.on('task:queued', (r) => queued.push(r.attempt));
      host.events.on('task:started', () => startedAt.push(Date.now()));
      const record = await host.tasks.wait((await executeOne(host, 'flaky')).id);
      expect(record).toMatchObject({
        state: 'succeeded',
        attempt: 3,
        maxAttempts: 3,
        result: 'succeeded on attempt 3',
        error: null,
      });
      expect(queued).toEqual([1, 2, 3]);
      expect(startedAt).toHaveLength(3);
      expect(startedAt[1]! - startedAt[0]!).toBeGreaterThanOrEqual(180);
      expect(startedAt[2]! - startedAt[1]!).toBeGreaterThanOrEqual(180);
    });

    it('stops retrying on an error marked non-retryable, and after the last attempt', async () => {
      class Fatal extends Task {
        static override retry = { attempts: 5, backoff: { type: 'fixed' as const, delayMs: 1 } };
        run(): never {
          throw new TaskError('The file is corrupt.', { code: 'MEDIA_CORRUPT', retryable: false });
        }
      }
      class Hopeless extends Task {
        static override retry = { attempts: 2, backoff: { type: 'exponential' as const, delayMs: 10 } };
        run(ctx: TaskContext): never {
          throw new Error(`attempt ${ctx.attempt} failed`);
        }
      }
      const host = await started([single('fatal', Fatal), single('hopeless', Hopeless)]);
      const fatal = await host.tasks.wait((await executeOne(host, 'fatal')).id);
      expect(fatal).toMatchObject({ state: 'failed', attempt: 1, error: { code: 'MEDIA_CORRUPT' } });
      const hopeless = await host.tasks.wait((await executeOne(host, 'hopeless')).id);
      expect(hopeless).toMatchObject({ state: 'failed', attempt: 2, error: { message: 'attempt 2 failed' } });
    });

    it('lists tasks newest first, filtered by user, plugin and state', async () => {
      const host = await started([single('echo', Echo), single('wait', Wait)]);
      const made: TaskRecord[] = [];
      for (let i = 0; i < 3; i++)
        made.push(await executeOne(host, 'echo', { text: `a${i}` }, { user: { id: 'ann' } }));
      made.push(await executeOne(host, 'echo', { text: 'b' }, { user: { id: 'bob' } }));
      await Promise.all(made.map((t) => host.tasks.wait(t.id)));
      const page = await host.tasks.list({ user: 'ann', plugin: 'echo', state: 'succeeded', limit: 2 });
      expect(page.items.map((t) => (t.input as { text: string }).text)).toEqual(['a2', 'a1']);
      const rest = await host.tasks.list({ user: 'ann', plugin: 'echo', limit: 2, cursor: page.nextCursor! });
      expect(rest.items.map((t) => (t.input as { text: string }).text)).toEqual(['a0']);
      expect((await host.tasks.list({ user: 'bob' })).items).toHaveLength(1);
    });
  });
}
