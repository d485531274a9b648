import {
  ActionPlugin,
  createHost,
  inProcessRuntime,
  memoryStore,
  type PlugboardError,
  Task,
  type TaskContext,
  type TaskRecord,
  Type,
} from '@plugboard/core';
import { describe, expect, it } from 'vitest';
import { hostsStartedPerTest, single, sleep, WaitPlugin } from './helpers.js';

// The in-process runtime's queue as a host sees it: its concurrency option, its counts, cancelling a task that
// waits (in the queue or for a retry), stopping, and starting the runtime again.

const started = hostsStartedPerTest(100);

/** Waits until `check` holds, looking every few milliseconds, for at most `ms`. */
async function until(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('the condition did not hold in time');
    await sleep(5);
  }
}

describe('the concurrency option', () => {
  it('refuses a concurrency that is not a whole number >= 1, naming the option', () => {
    for (const concurrency of [0, -1, 1.5, Number.NaN, '2' as unknown as number]) {
      let caught: PlugboardError | undefined;
      try {
        inProcessRuntime({ concurrency });
      } catch (error) {
        caught = error as PlugboardError;
      }
      expect(caught, String(concurrency)).toMatchObject({
        code: 'PLUGBOARD_INVALID_OPTION',
        message: expect.stringMatching(/^Expected `concurrency` to be an integer >= 1, got /),
      });
    }
  });

  it('runs 4 tasks at once by default and counts the others as queued', async () => {
    const host = await started([WaitPlugin], { runtime: inProcessRuntime() });
    const tasks = [];
    for (let i = 0; i < 6; i++) tasks.push((await host.execute('wait', { ms: 10_000 })).tasks[0]!);
    await until(() => host.runtime.stats().running === 4);
    expect(host.runtime.stats()).toEqual({ queued: 2, running: 4 });
    const states = await Promise.all(tasks.map(async (t) => (await host.tasks.get(t.id))!.state));
    expect(states).toEqual(['running', 'running', 'running', 'running', 'queued', 'queued']);
  });

  it('takes Infinity for no limit and runs every task at once', async () => {
    const host = await started([WaitPlugin], { runtime: inProcessRuntime({ concurrency: Infinity }) });
    for (let i = 0; i < 12; i++) await host.execute('wait', { ms: 10_000 });
    await until(() => host.runtime.stats().running === 12);
    expect(host.runtime.stats()).toEqual({ queued: 0, running: 12 });
  });

  it('runs one task at a time with concurrency 1', async () => {
    const host = await started([WaitPlugin], { runtime: inProcessRuntime({ concurrency: 1 }) });
    const first = (await host.execute('wait', { ms: 10_000 })).tasks[0]!;
    await host.execute('wait', { ms: 10_000 });
    await until(() => host.runtime.stats().running === 1);
    expect(host.runtime.stats()).toEqual({ queued: 1, running: 1 });
    await host.tasks.cancel(first.id);
    await until(async () => (await host.tasks.list({ state: 'running' })).items.length === 1);
    expect(host.runtime.stats()).toEqual({ queued: 0, running: 1 });
  });
});

describe('cancelling a task that waits', () => {
  it('records a queued task cancelled before it ran, announces it once, and no longer counts it', async () => {
    const host = await started([WaitPlugin], { concurrency: 1 });
    const blocker = (await host.execute('wait', { ms: 10_000 })).tasks[0]!;
    const queued = (await host.execute('wait', { ms: 1 })).tasks[0]!;
    const finished: TaskRecord[] = [];
    host.events.on('task:finished', (record) => finished.push(record));
    const before = Date.now();
    const cancelled = await host.tasks.cancel(queued.id);
    expect(cancelled).toMatchObject({
      state: 'cancelled',
      startedAt: null,
      error: { code: 'PLUGBOARD_TASK_CANCELLED', message: 'The task was cancelled before it ran.' },
    });
    expect(cancelled.finishedAt).toBeGreaterThanOrEqual(before);
    expect(cancelled.finishedAt).toBeLessThanOrEqual(Date.now());
    expect(finished).toEqual([cancelled]);
    expect(host.runtime.stats()).toEqual({ queued: 0, running: 1 });
    // A second cancel finds it finished.
    await expect(host.tasks.cancel(queued.id)).rejects.toMatchObject({ code: 'PLUGBOARD_TASK_FINISHED' });
    await host.tasks.cancel(blocker.id);
    await until(() => host.runtime.stats().running === 0);
    expect(host.runtime.stats()).toEqual({ queued: 0, running: 0 });
    expect((await host.tasks.get(queued.id))?.startedAt).toBeNull();
  });

  it('cancels a task that waits for its retry: it does not run again, and its record says so', async () => {
    let runs = 0;
    class Flaky extends Task {
      static override retry = { attempts: 3, backoff: { type: 'fixed' as const, delayMs: 300 } };
      run() {
        runs++;
        throw new Error('not yet');
      }
    }
    const host = await started([single('flaky', Flaky)]);
    const queuedAgain = new Promise<TaskRecord>((resolve) =>
      host.events.on('task:queued', (record) => record.attempt === 2 && resolve(record)),
    );
    const finished: TaskRecord[] = [];
    host.events.on('task:finished', (record) => finished.push(record));
    const { tasks } = await host.execute('flaky', {});
    // The second attempt is written to the store when the first fails, and announced when its delay is over.
    await until(async () => (await host.tasks.get(tasks[0]!.id))?.attempt === 2);
    expect(await host.tasks.get(tasks[0]!.id)).toMatchObject({ state: 'queued', attempt: 2 });
    expect(host.runtime.stats()).toEqual({ queued: 0, running: 0 });
    const cancelled = await host.tasks.cancel(tasks[0]!.id);
    expect(cancelled).toMatchObject({
      state: 'cancelled',
      attempt: 2,
      error: { code: 'PLUGBOARD_TASK_CANCELLED', message: 'The task was cancelled before it ran.' },
    });
    expect(host.runtime.stats()).toEqual({ queued: 0, running: 0 });
    const announced = await Promise.race([queuedAgain.then(() => true), sleep(500).then(() => false)]);
    expect(announced).toBe(false);
    expect(runs).toBe(1);
    expect(finished.map((r) => r.state)).toEqual(['cancelled']);
    expect((await host.tasks.get(tasks[0]!.id))?.state).toBe('cancelled');
  });

  it('cancels a retry that waits for a free slot behind another task', async () => {
    let runs = 0;
    class Flaky extends Task {
      static override retry = { attempts: 2, backoff: { type: 'fixed' as const, delayMs: 20 } };
      run() {
        runs++;
        throw new Error('not yet');
      }
    }
    class Blocker extends Task {
      async run(ctx: TaskContext) {
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
        return 'stopped';
      }
    }
    const host = await started([single('flaky', Flaky), single('blocker', Blocker)], { concurrency: 1 });
    const flaky = (await host.execute('flaky', {})).tasks[0]!;
    const blocker = (await host.execute('blocker', {})).tasks[0]!;
    const retried = new Promise<void>((resolve) =>
      host.events.on('task:queued', (record) => record.attempt === 2 && resolve()),
    );
    await retried;
    // The retry waits: the blocker holds the one slot.
    expect(host.runtime.stats()).toEqual({ queued: 1, running: 1 });
    expect((await host.tasks.cancel(flaky.id)).state).toBe('cancelled');
    expect(host.runtime.stats()).toEqual({ queued: 0, running: 1 });
    await host.tasks.cancel(blocker.id);
    await until(() => host.runtime.stats().running === 0);
    await sleep(20);
    expect(host.runtime.stats()).toEqual({ queued: 0, running: 0 });
    expect(runs).toBe(1);
  });

  it('answers false for a task the runtime does not hold', async () => {
    const runtime = inProcessRuntime();
    expect(await runtime.cancel('nothing-here')).toBe(false);
  });
});

describe('stopping', () => {
  it('records a task that outlives the shutdown timeout interrupted, saying how long it had', async () => {
    const store = memoryStore();
    const host = await started([WaitPlugin], { store });
    const { tasks } = await host.execute('wait', { ms: 60_000 });
    await until(() => host.runtime.stats().running === 1);
    await host.stop({ timeoutMs: 120 });
    expect(await store.getTask(tasks[0]!.id)).toMatchObject({
      state: 'interrupted',
      error: {
        code: 'PLUGBOARD_TASK_INTERRUPTED',
        message:
          'The host stopped while the task ran (it did not finish within the 120 ms shutdown timeout).',
      },
    });
  });

  it('keeps a task that waits for its retry queued in the store and does not run it after stop', async () => {
    let runs = 0;
    class Flaky extends Task {
      static override retry = { attempts: 3, backoff: { type: 'fixed' as const, delayMs: 150 } };
      run() {
        runs++;
        throw new Error('not yet');
      }
    }
    const store = memoryStore();
    const host = await started([single('flaky', Flaky)], { store });
    const errors: unknown[] = [];
    host.events.on('error', (error) => errors.push(error));
    const queued: number[] = [];
    host.events.on('task:queued', (record) => queued.push(record.attempt));
    const { tasks } = await host.execute('flaky', {});
    await until(async () => (await store.getTask(tasks[0]!.id))?.attempt === 2);
    await host.stop({ timeoutMs: 1000 });
    await sleep(300);
    expect(runs).toBe(1);
    expect(queued).toEqual([1]);
    expect(errors).toEqual([]);
    expect(await store.getTask(tasks[0]!.id)).toMatchObject({ state: 'queued', attempt: 2 });
  });

  it('does not retry a task that fails while the host stops: it is recorded failed', async () => {
    class FailsLate extends Task {
      static override retry = { attempts: 3, backoff: { type: 'fixed' as const, delayMs: 10 } };
      async run() {
        await sleep(80);
        throw new Error('failed during shutdown');
      }
    }
    const store = memoryStore();
    const host = await started([single('late', FailsLate)], { store });
    const { tasks } = await host.execute('late', {});
    await until(() => host.runtime.stats().running === 1);
    await host.stop({ timeoutMs: 2000 });
    await sleep(50);
    expect(await store.getTask(tasks[0]!.id)).toMatchObject({
      state: 'failed',
      attempt: 1,
      error: { message: 'failed during shutdown' },
    });
  });

  it('refuses tasks once stopped, and before it was ever started', async () => {
    const host = await started([WaitPlugin]);
    const { tasks } = await host.execute('wait', { ms: 1 });
    const record = await host.tasks.wait(tasks[0]!.id);
    await host.stop({ timeoutMs: 100 });
    await expect(host.runtime.enqueue({ ...record, state: 'queued' })).rejects.toMatchObject({
      code: 'PLUGBOARD_HOST_STOPPING',
      message: 'The runtime is stopping; no task is accepted.',
    });
    await expect(inProcessRuntime().enqueue(record)).rejects.toMatchObject({
      code: 'PLUGBOARD_HOST_NOT_STARTED',
      message: 'The runtime has not been started: call host.start() first.',
    });
  });

  it('runs tasks again when a stopped runtime is started by a new host', async () => {
    const runtime = inProcessRuntime({ concurrency: 2 });
    const first = createHost({ env: false, argv: [], runtime, plugins: { classes: [WaitPlugin] } });
    await first.start();
    await first.execute('wait', { ms: 1 });
    await first.stop({ timeoutMs: 100 });
    const second = createHost({ env: false, argv: [], runtime, plugins: { classes: [WaitPlugin] } });
    await second.start();
    try {
      const { tasks } = await second.execute('wait', { ms: 1 });
      expect((await second.tasks.wait(tasks[0]!.id)).state).toBe('succeeded');
    } finally {
      await second.stop({ timeoutMs: 100 });
    }
  });
});

describe('tasks that never wait for I/O', () => {
  it('a task cancelled while the runtime gives the event loop a turn is not run', async () => {
    let cancelWaiting: (limit: number) => Promise<void> = async () => {};
    /**
     * Keeps the thread busy for half a millisecond, so a long run of these starves the event loop and the runtime
     * makes them wait for it to take a turn. The 81st cancels, on the turn after next, every task still waiting.
     */
    class Busy extends Task<{ i: number }, number> {
      run() {
        if (this.input.i === 80) setImmediate(() => cancelWaiting(Infinity));
        const end = performance.now() + 0.5;
        while (performance.now() < end);
        return this.input.i;
      }
    }
    /** Holds its slot a while: what starts once the turn has come does not free a slot at once. */
    class Slow extends Task<{ i: number }, number> {
      async run() {
        await sleep(30);
        return this.input.i;
      }
    }
    class Burst extends ActionPlugin({
      id: 'burst',
      name: 'Burst',
      args: Type.Object({}),
      tasks: [Busy, Slow],
    }) {
      createTasks() {
        return [
          ...Array.from({ length: 160 }, (_, i) => new Busy({ i })),
          ...Array.from({ length: 10 }, (_, i) => new Slow({ i: 160 + i })),
        ];
      }
    }
    const host = await started([Burst], { concurrency: 4 });
    const queued: string[] = [];
    const startedIds = new Set<string>();
    host.events.on('task:queued', (record) => queued.push(record.id));
    host.events.on('task:started', (record) => startedIds.add(record.id));
    const cancels: Promise<TaskRecord | undefined>[] = [];
    const asked = new Set<string>();
    // Cancels, one after the other, up to `limit` tasks queued and not started, oldest first.
    cancelWaiting = async (limit) => {
      for (let n = 0; n < limit; n++) {
        const id = queued.find((id) => !startedIds.has(id) && !asked.has(id));
        if (id === undefined) return;
        asked.add(id);
        const cancel = host.tasks.cancel(id).catch(() => undefined);
        cancels.push(cancel);
        await cancel;
      }
    };
    const executed = host.execute('burst', {});
    // The first turn the event loop takes comes while the tasks wait for it: two of them are cancelled then.
    setImmediate(() => cancelWaiting(2));
    const { tasks } = await executed;
    const ends = await Promise.all(tasks.map((t) => host.tasks.wait(t.id)));
    await sleep(50);
    const cancelled = (await Promise.all(cancels)).filter(
      (r): r is TaskRecord => r?.error?.message === 'The task was cancelled before it ran.',
    );
    expect(cancelled.length).toBeGreaterThan(0);
    for (const record of cancelled) {
      expect(startedIds.has(record.id), `task ${(record.input as { i: number }).i} started`).toBe(false);
      expect(await host.tasks.get(record.id)).toMatchObject({ state: 'cancelled', startedAt: null });
    }
    for (const end of ends) expect(['succeeded', 'cancelled']).toContain(end.state);
    expect(host.runtime.stats()).toEqual({ queued: 0, running: 0 });
  });

  it('runs a small batch of tasks that never await back to back, without waiting for the event loop', async () => {
    class Instant extends Task<{ i: number }, number> {
      run() {
        return this.input.i;
      }
    }
    class Batch extends ActionPlugin({
      id: 'batch',
      name: 'Batch',
      args: Type.Object({}),
      tasks: [Instant],
    }) {
      createTasks() {
        return Array.from({ length: 40 }, (_, i) => new Instant({ i }));
      }
    }
    const host = await started([Batch], { concurrency: 4 });
    let finished = 0;
    host.events.on('task:finished', () => finished++);
    let finishedAtFirstTurn: number | undefined;
    setImmediate(() => {
      finishedAtFirstTurn = finished;
    });
    const { tasks } = await host.execute('batch', {});
    await Promise.all(tasks.map((t) => host.tasks.wait(t.id)));
    // Either no turn came before the last task finished, or it came after.
    expect(finishedAtFirstTurn ?? finished).toBe(40);
  });

  it('a task waiting for the event loop to take a turn when the host stops stays queued and never starts', async () => {
    let stopping: Promise<void> | undefined;
    class Busy extends Task<{ i: number }, number> {
      run() {
        const end = performance.now() + 0.5;
        while (performance.now() < end);
        return this.input.i;
      }
    }
    class Burst extends ActionPlugin({ id: 'burst', name: 'Burst', args: Type.Object({}), tasks: [Busy] }) {
      createTasks() {
        return Array.from({ length: 200 }, (_, i) => new Busy({ i }));
      }
    }
    const store = memoryStore();
    const host = await started([Burst], { store, concurrency: 4 });
    const startedIds = new Set<string>();
    host.events.on('task:started', (record) => startedIds.add(record.id));
    const executed = host.execute('burst', {});
    // The first turn the event loop takes comes while tasks wait for it: the host stops then.
    let startedAtStop = 0;
    setImmediate(() => {
      startedAtStop = startedIds.size;
      stopping = host.stop({ timeoutMs: 1000 });
    });
    const { tasks } = await executed;
    await until(() => stopping !== undefined);
    await stopping;
    await sleep(50);
    expect(startedIds.size).toBe(startedAtStop);
    expect(startedAtStop).toBeLessThan(200);
    const records = await Promise.all(tasks.map(async (t) => (await store.getTask(t.id))!));
    for (const record of records) {
      if (startedIds.has(record.id)) expect(record.state).toBe('succeeded');
      else expect(record).toMatchObject({ state: 'queued', startedAt: null });
    }
  });
});

describe('what stop leaves behind', () => {
  it('no timer of the runtime is left once the running tasks ended within the shutdown timeout', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const host = createHost({ env: false, argv: [], plugins: { classes: [WaitPlugin] } });
    await host.start();
    const { tasks } = await host.execute('wait', { ms: 40 });
    await until(() => host.runtime.stats().running === 1);
    // The shutdown timeout is long: a timer for it left behind would keep the process alive a minute.
    await host.stop({ timeoutMs: 60_000 });
    expect((await host.tasks.get(tasks[0]!.id).catch(() => undefined))?.state ?? 'succeeded').toBe(
      'succeeded',
    );
    expect(timers()).toBeLessThanOrEqual(before);
  });
});
