import {
  ActionPlugin,
  MemoryTaskStore,
  Task,
  type TaskContext,
  type TaskRecord,
  Type,
} from '@plugboard/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { hostsStartedPerTest, single, sleep } from './helpers.js';

// A store that refuses to record how a task ended (a full disk, a lock held elsewhere): the in-process runtime
// reports it, announces the end anyway, writes it again in the background with a growing delay, and tries once
// more when the host stops.

const started = hostsStartedPerTest(500);

afterEach(() => {
  vi.useRealTimers();
});

const FINAL = new Set(['succeeded', 'failed', 'cancelled', 'timed-out', 'interrupted']);

/** A memory store that refuses the next `refusals` writes of a task's end, and counts every such write. */
class RefusingStore extends MemoryTaskStore {
  refusals = 0;
  /** When each write of a task's end was asked for (ms since epoch), refused or not. */
  readonly endWrites: number[] = [];
  /** Set to hold the next end write this long before it is refused. */
  holdNextRefusalMs = 0;
  override async updateTask(id: string, patch: Partial<TaskRecord>): Promise<void> {
    if (patch.state !== undefined && FINAL.has(patch.state)) {
      this.endWrites.push(Date.now());
      if (this.refusals > 0) {
        this.refusals--;
        if (this.holdNextRefusalMs > 0) {
          const ms = this.holdNextRefusalMs;
          this.holdNextRefusalMs = 0;
          await new Promise((resolve) => setTimeout(resolve, ms));
        }
        throw new Error('disk full');
      }
    }
    return super.updateTask(id, patch);
  }
}

class Quick extends Task<Record<string, never>> {
  async run() {
    return 'done';
  }
}

/** Lets pending promise callbacks and immediates run, without moving any timer. */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('a task end the store refuses', () => {
  it('is reported, announced, and written again after 0.5 s, then twice as long each time, at most 30 s apart', async () => {
    const store = new RefusingStore();
    const host = await started([single('quick', Quick)], { store });
    const errors: Error[] = [];
    host.events.on('error', (error) => errors.push(error));
    store.refusals = 7;
    // Only the runtime's timers are faked, once the host has started.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { tasks } = await host.execute('quick', {});
    const id = tasks[0]!.id;
    // Announced with its end although the store did not take it.
    const announced = await host.tasks.wait(id);
    expect(announced.state).toBe('succeeded');
    await settle();
    expect(store.endWrites).toHaveLength(1);
    expect(errors.map((e) => e.message)).toEqual(['disk full']);
    expect((await store.getTask(id))?.state).toBe('running');

    // The n-th write again comes 500 * 2^(n-1) ms after the one before, capped at 30 s.
    let writes = 1;
    for (const delay of [500, 1000, 2000, 4000, 8000, 16_000, 30_000]) {
      await vi.advanceTimersByTimeAsync(delay - 1);
      await settle();
      expect(store.endWrites, `nothing before ${delay} ms`).toHaveLength(writes);
      await vi.advanceTimersByTimeAsync(1);
      await settle();
      expect(store.endWrites, `a write after ${delay} ms`).toHaveLength(++writes);
    }
    // The eighth write was taken: the record is final, nothing more is written, and only the first was reported.
    expect(await store.getTask(id)).toMatchObject({ state: 'succeeded', result: 'done' });
    await vi.advanceTimersByTimeAsync(60_000);
    await settle();
    expect(store.endWrites).toHaveLength(8);
    expect(errors).toHaveLength(1);
  });

  it('is written once more when the host stops, and not again after', async () => {
    const store = new RefusingStore();
    const host = await started([single('quick', Quick)], { store });
    host.events.on('error', () => {});
    store.refusals = 1;
    const { tasks } = await host.execute('quick', {});
    await host.tasks.wait(tasks[0]!.id);
    await sleep(20);
    expect((await store.getTask(tasks[0]!.id))?.state).toBe('running');
    await host.stop({ timeoutMs: 100 });
    expect(await store.getTask(tasks[0]!.id)).toMatchObject({ state: 'succeeded', result: 'done' });
    expect(store.endWrites).toHaveLength(2);
    // The background write, due 0.5 s after the first, was called off.
    await sleep(700);
    expect(store.endWrites).toHaveLength(2);
  });

  it('is reported again when the store still refuses it at stop, and left for the next start to recover', async () => {
    const store = new RefusingStore();
    const host = await started([single('quick', Quick)], { store });
    const errors: Error[] = [];
    host.events.on('error', (error) => errors.push(error));
    store.refusals = 10;
    const { tasks } = await host.execute('quick', {});
    await host.tasks.wait(tasks[0]!.id);
    await sleep(20);
    await host.stop({ timeoutMs: 100 });
    expect(errors.map((e) => e.message)).toEqual(['disk full', 'disk full']);
    expect((await store.getTask(tasks[0]!.id))?.state).toBe('running');
    await sleep(700);
    expect(store.endWrites).toHaveLength(2);
  });

  it('is not asked for again after stop when a write in the background is refused while the host stops', async () => {
    const store = new RefusingStore();
    const host = await started([single('quick', Quick)], { store });
    host.events.on('error', () => {});
    store.refusals = 3;
    const { tasks } = await host.execute('quick', {});
    await host.tasks.wait(tasks[0]!.id);
    // The background write at 0.5 s is held 300 ms before it is refused; the host stops meanwhile.
    store.holdNextRefusalMs = 300;
    await sleep(600);
    expect(store.endWrites).toHaveLength(2);
    await host.stop({ timeoutMs: 100 });
    await sleep(1500);
    expect(store.endWrites).toHaveLength(2);
    expect((await store.getTask(tasks[0]!.id))?.state).toBe('running');
  });
});

describe('other writes and listeners that fail', () => {
  it('a listener of task:finished that throws is reported, and the task is recorded all the same', async () => {
    const host = await started([single('quick', Quick)]);
    const errors: Error[] = [];
    host.events.on('error', (error) => errors.push(error));
    host.events.on('task:finished', () => {
      throw new Error('listener broke');
    });
    const { tasks } = await host.execute('quick', {});
    const record = await host.tasks.wait(tasks[0]!.id);
    expect(record.state).toBe('succeeded');
    await sleep(20);
    expect(errors.map((e) => e.message)).toEqual(['listener broke']);
    expect((await host.tasks.get(record.id))?.state).toBe('succeeded');
  });

  it('a retry the store refuses to record is reported and the task announced failed', async () => {
    let runs = 0;
    class Flaky extends Task {
      static override retry = { attempts: 3, backoff: { type: 'fixed' as const, delayMs: 10 } };
      run() {
        runs++;
        throw new Error('not yet');
      }
    }
    class NoRetries extends MemoryTaskStore {
      override async updateTask(id: string, patch: Partial<TaskRecord>): Promise<void> {
        if (patch.attempt !== undefined && patch.attempt > 1) throw new Error('cannot record the retry');
        return super.updateTask(id, patch);
      }
    }
    const host = await started([single('flaky', Flaky)], { store: new NoRetries() });
    const errors: Error[] = [];
    host.events.on('error', (error) => errors.push(error));
    const { tasks } = await host.execute('flaky', {});
    const record = await host.tasks.wait(tasks[0]!.id);
    expect(record).toMatchObject({ state: 'failed', attempt: 1, error: { message: 'not yet' } });
    await sleep(50);
    expect(runs).toBe(1);
    expect(errors.map((e) => e.message)).toEqual(['cannot record the retry']);
  });

  it('a store that refuses to note why a task waits for its plugin is reported; the tasks still run', async () => {
    class NapTask extends Task<{ ms: number }> {
      async run(ctx: TaskContext) {
        await new Promise((resolve) => setTimeout(resolve, this.input.ms));
        return ctx.attempt;
      }
    }
    class Limited extends ActionPlugin({
      id: 'limited',
      name: 'Limited',
      args: Type.Object({}),
      tasks: [NapTask],
      limits: { concurrency: 1 },
    }) {
      createTasks() {
        return [new NapTask({ ms: 30 }), new NapTask({ ms: 30 })];
      }
    }
    class NoWaitingReason extends MemoryTaskStore {
      override async updateTask(id: string, patch: Partial<TaskRecord>): Promise<void> {
        if (patch.waitingReason) throw new Error('cannot note the reason');
        return super.updateTask(id, patch);
      }
    }
    const host = await started([Limited], { store: new NoWaitingReason() });
    const errors: Error[] = [];
    host.events.on('error', (error) => errors.push(error));
    const { tasks } = await host.execute('limited', {});
    const ended = await Promise.all(tasks.map((t) => host.tasks.wait(t.id)));
    expect(ended.map((r) => r.state)).toEqual(['succeeded', 'succeeded']);
    expect(errors.map((e) => e.message)).toEqual(['cannot note the reason']);
  });
});
