import { ActionPlugin, Task, Type } from '@plugboard/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { hostsStartedPerTest } from './helpers.js';

// Tasks that never await run back to back in microtasks. The runtime makes them wait for the event loop to take a
// turn only once they have kept it busy for a while (a few milliseconds), so short batches pay nothing. The
// clock the runtime measures that on (`performance.now()`) is faked here: time passes only when a task says so.

const started = hostsStartedPerTest();

afterEach(() => {
  vi.useRealTimers();
});

/** A task that never awaits; it moves the faked clock on by `busyMs`, as if it had kept the thread that long. */
class Instant extends Task<{ i: number; busyMs: number }, number> {
  run() {
    if (this.input.busyMs > 0) vi.advanceTimersByTime(this.input.busyMs);
    return this.input.i;
  }
}

class Batch extends ActionPlugin({
  id: 'batch',
  name: 'Batch',
  args: Type.Object({ count: Type.Integer({ minimum: 1 }), busyMs: Type.Number({ minimum: 0 }) }),
  tasks: [Instant],
}) {
  createTasks(args: { count: number; busyMs: number }) {
    return Array.from({ length: args.count }, (_, i) => new Instant({ i, busyMs: args.busyMs }));
  }
}

/** Runs a batch and returns how many of its tasks had finished when the event loop first took a turn. */
async function finishedAtFirstTurn(count: number, busyMs: number): Promise<number> {
  const host = await started([Batch], { concurrency: 4 });
  vi.useFakeTimers({ toFake: ['performance'] });
  // A clock that has been running a while, as a process's has.
  vi.advanceTimersByTime(10_000);
  let finished = 0;
  host.events.on('task:finished', () => finished++);
  let atTurn: number | undefined;
  setImmediate(() => {
    atTurn = finished;
  });
  const { tasks } = await host.execute('batch', { count, busyMs });
  await Promise.all(tasks.map((t) => host.tasks.wait(t.id)));
  return atTurn ?? finished;
}

describe('tasks that never await and the event loop', () => {
  it('runs 200 such tasks to the end without a turn of the event loop while no time passes', async () => {
    expect(await finishedAtFirstTurn(200, 0)).toBe(200);
  });

  it('runs 20 such tasks of 1 ms each to the end without a turn of the event loop', async () => {
    expect(await finishedAtFirstTurn(20, 1)).toBe(20);
  });

  it('gives the event loop a turn once 200 tasks of 1 ms each have kept it busy a while', async () => {
    const atTurn = await finishedAtFirstTurn(200, 1);
    expect(atTurn).toBeGreaterThan(0);
    expect(atTurn).toBeLessThan(200);
  });
});
