import { fileURLToPath } from 'node:url';
import {
  ActionPlugin,
  type HostEvents,
  inProcessRuntime,
  memoryStore,
  Task,
  type TaskContext,
  type TaskRecord,
  Type,
} from '@plugboard/core';
import { taskRecord } from '@plugboard/testing/contracts';
import { EventEmitter } from 'eventemitter3';
import { describe, expect, it } from 'vitest';
import { hostsStartedPerTest, sleep } from './helpers.js';

// Child tasks: a running task starts children with ctx.spawn, waits for them, and the host keeps them linked to
// it: listed under it, cancelled with it, and not left running unseen when it dies with its process.

class SquareTask extends Task<{ n: number; ms?: number }, number> {
  async run(ctx: TaskContext) {
    if (this.input.ms) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, this.input.ms);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(ctx.signal.reason);
        });
      });
    }
    return this.input.n * this.input.n;
  }
}

class SumOfSquaresTask extends Task<{ upTo: number; ms?: number }, number> {
  async run(ctx: TaskContext) {
    const children = [];
    for (let n = 1; n <= this.input.upTo; n++)
      children.push(await ctx.spawn(new SquareTask({ n, ms: this.input.ms })));
    const ends = await Promise.all(children.map((child) => child.wait()));
    return ends.reduce((sum, end) => sum + (end.result as number), 0);
  }
}

class Squares extends ActionPlugin({
  id: 'squares',
  name: 'Squares',
  args: Type.Object({ upTo: Type.Integer({ minimum: 1 }), ms: Type.Optional(Type.Integer()) }),
  tasks: [SumOfSquaresTask, SquareTask],
}) {
  createTasks(args: { upTo: number; ms?: number }) {
    return new SumOfSquaresTask(args);
  }
}

class NotListedTask extends Task {
  run() {
    return 1;
  }
}

class SpawnsUnlisted extends Task {
  async run(ctx: TaskContext) {
    await ctx.spawn(new NotListedTask({}));
  }
}

class Unlisted extends ActionPlugin({ id: 'unlisted', name: 'Unlisted', tasks: [SpawnsUnlisted] }) {
  createTasks() {
    return new SpawnsUnlisted({});
  }
}

const started = hostsStartedPerTest(500);
const alice = { id: 'alice', name: 'Alice', permissions: [] };

describe('child tasks', () => {
  it('a parent starts children, waits for them and uses their results', async () => {
    const host = await started([Squares]);
    const [parent] = (await host.execute('squares', { upTo: 4 }, { user: alice })).tasks;
    const end = await host.tasks.wait(parent!.id);
    expect(end.state).toBe('succeeded');
    expect(end.result).toBe(1 + 4 + 9 + 16);
  });

  it("children carry their parent's id and user, and the parent lists them with their states", async () => {
    const host = await started([Squares]);
    const [parent] = (await host.execute('squares', { upTo: 3 }, { user: alice })).tasks;
    await host.tasks.wait(parent!.id);
    const children = await host.tasks.children(parent!.id);
    expect(children.map((c) => [c.taskType, c.parentId, c.user.id, c.state, c.result])).toEqual([
      ['squares/SquareTask', parent!.id, 'alice', 'succeeded', 1],
      ['squares/SquareTask', parent!.id, 'alice', 'succeeded', 4],
      ['squares/SquareTask', parent!.id, 'alice', 'succeeded', 9],
    ]);
    expect((await host.tasks.get(parent!.id))?.parentId ?? null).toBeNull();
    expect(await host.tasks.children(children[0]!.id)).toEqual([]);
  });

  it('cancelling a parent cancels its unfinished children, saying why', async () => {
    const host = await started([Squares], { concurrency: 8 });
    const [parent] = (await host.execute('squares', { upTo: 3, ms: 10_000 })).tasks;
    await waitFor(async () => (await host.tasks.children(parent!.id)).length === 3);
    await host.tasks.cancel(parent!.id);
    await waitFor(async () => (await host.tasks.children(parent!.id)).every((c) => c.state === 'cancelled'));
    const children = await host.tasks.children(parent!.id);
    expect(children.map((c) => c.error?.code)).toEqual(Array(3).fill('PLUGBOARD_PARENT_STOPPED'));
  });

  it('a parent that times out takes its children with it', async () => {
    const host = await started([Squares], { concurrency: 8 });
    const [parent] = (await host.execute('squares', { upTo: 2, ms: 10_000 }, { timeoutMs: 150 })).tasks;
    expect((await host.tasks.wait(parent!.id)).state).toBe('timed-out');
    await waitFor(async () => (await host.tasks.children(parent!.id)).every((c) => c.state === 'cancelled'));
  });

  it('refuses a child of a type the plugin does not list, failing the parent with the code', async () => {
    const host = await started([Unlisted]);
    const [parent] = (await host.execute('unlisted', {})).tasks;
    const end = await host.tasks.wait(parent!.id);
    expect(end.state).toBe('failed');
    expect(end.error?.code).toBe('PLUGBOARD_UNKNOWN_TASK_TYPE');
  });
});

class SpawnsWithBadOptions extends Task {
  async run(ctx: TaskContext) {
    await ctx.spawn(new SquareTask({ n: 1 }), { timeoutMs: -5 });
  }
}

class BadOptions extends ActionPlugin({
  id: 'bad-options',
  name: 'Bad',
  tasks: [SpawnsWithBadOptions, SquareTask],
}) {
  createTasks() {
    return new SpawnsWithBadOptions({});
  }
}

describe('refused spawns', () => {
  it('refuses spawn options that are out of range, failing the parent with the option named', async () => {
    const host = await started([BadOptions]);
    const [parent] = (await host.execute('bad-options', {})).tasks;
    const end = await host.tasks.wait(parent!.id);
    expect(end.error).toMatchObject({
      code: 'PLUGBOARD_INVALID_OPTION',
      message: expect.stringContaining('`timeoutMs`'),
    });
    expect(await host.tasks.children(parent!.id)).toEqual([]);
  });

  it('a runtime whose environment cannot queue children refuses with PLUGBOARD_SPAWN_UNAVAILABLE', async () => {
    const store = memoryStore();
    await store.open();
    const runtime = inProcessRuntime();
    const events = new EventEmitter<HostEvents>();
    await runtime.start({
      store,
      events,
      instantiate: (record) => ({
        task: new SumOfSquaresTask(record.input as { upTo: number }),
        properties: {},
      }),
      retryPolicy: () => undefined,
      now: () => Date.now(),
      logLevel: 'info',
      maxLogLineLength: 1000,
      progressIntervalMs: 100,
      reportError: () => {},
      fireSchedule: async () => {
        throw new Error('no schedules here');
      },
    });
    const record = taskRecord({
      pluginId: 'squares',
      taskType: 'squares/SumOfSquaresTask',
      input: { upTo: 1 },
    });
    await store.insertTask(record);
    const ended = new Promise<TaskRecord>((resolve) => events.on('task:finished', resolve));
    await runtime.enqueue(record);
    expect((await ended).error?.code).toBe('PLUGBOARD_SPAWN_UNAVAILABLE');
    await runtime.stop({ timeoutMs: 100 });
  });
});

describe('child tasks across a crash', () => {
  it('cancels the unfinished children of a parent that was running when the process died', async () => {
    const store = memoryStore();
    await store.open();
    const parent = taskRecord({
      pluginId: 'squares',
      taskType: 'squares/SumOfSquaresTask',
      input: { upTo: 2 },
      state: 'running',
      startedAt: 1,
    });
    const child = (overrides: Partial<TaskRecord>) =>
      taskRecord({
        pluginId: 'squares',
        taskType: 'squares/SquareTask',
        input: { n: 2 },
        parentId: parent.id,
        ...overrides,
      });
    const queued = child({ state: 'queued' });
    const running = child({ state: 'running', startedAt: 2 });
    const done = child({ state: 'succeeded', startedAt: 2, finishedAt: 3, result: 4 });
    const grandchild = taskRecord({
      pluginId: 'squares',
      taskType: 'squares/SquareTask',
      input: { n: 3 },
      parentId: running.id,
    });
    for (const record of [parent, queued, running, done, grandchild]) await store.insertTask(record);
    const host = await started([Squares], { store });
    expect(host.report?.recovery).toEqual({ interrupted: 1, requeued: 0, resumed: 0, orphaned: 3 });
    const children = await host.tasks.children(parent.id);
    expect(children.map((c) => [c.id, c.state])).toEqual([
      [queued.id, 'cancelled'],
      [running.id, 'cancelled'],
      [done.id, 'succeeded'],
    ]);
    expect((await host.tasks.get(grandchild.id))?.error?.code).toBe('PLUGBOARD_PARENT_STOPPED');
    await sleep(20);
    expect(host.runtime.stats()).toEqual({ queued: 0, running: 0 });
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('the condition did not hold in time');
    await sleep(10);
  }
}

describe('child tasks of an isolated task', () => {
  it('a task in a worker thread starts children through the host and waits for them', async () => {
    const dir = fileURLToPath(new URL('./fixtures/isolated-children', import.meta.url));
    const host = await started([], { plugins: { dirs: [dir] }, isolation: { mode: 'thread', graceMs: 200 } });
    const [parent] = (await host.execute('fan-out', { pieces: 3 }, { user: alice })).tasks;
    const end = await host.tasks.wait(parent!.id);
    expect(end.state).toBe('succeeded');
    const result = end.result as { sum: number; childIds: string[]; isMainThread: boolean };
    expect(result).toMatchObject({ sum: 6, isMainThread: false });
    const children = await host.tasks.children(parent!.id);
    expect(children.map((c) => c.id)).toEqual(result.childIds);
    expect(children.map((c) => [c.state, c.user.id, c.parentId])).toEqual(
      Array(3).fill(['succeeded', 'alice', parent!.id]),
    );
    expect(children.map((c) => (c.result as { isMainThread: boolean }).isMainThread)).toEqual([
      false,
      false,
      false,
    ]);
    // Each child starts a worker of its own, which loads the plugin's sources: slow on a loaded machine.
  }, 60_000);
});
