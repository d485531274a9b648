// The floor of a tracked task on p-queue: the least any runtime that keeps a record per task can do. Each task gets
// an id and a record in a bounded map, is marked running and finished (a new record each time, as a store that
// hands out snapshots must), and announces both changes on an event bus. It has no context, signal, log,
// progress, timeout, retry or cancel: the benchmarks run it beside the in-process runtime as its own baseline, so
// the table shows how far from this floor the runtime is.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'eventemitter3';
import PQueue from 'p-queue';

const RETAINED = 10_000;

export class FloorRuntime {
  #queue;
  #records = new Map();
  #finished = [];
  #sequence = 0;
  #prefix = randomBytes(4).toString('hex');
  events = new EventEmitter();

  constructor(concurrency) {
    this.#queue = new PQueue({ concurrency });
  }

  /** Creates a task record and queues `run` for it; resolves with the record once it is queued. */
  execute(run) {
    const id = `${Date.now().toString(36)}${(this.#sequence++).toString(36)}${this.#prefix}`;
    const record = {
      id,
      state: 'queued',
      createdAt: Date.now(),
      startedAt: null,
      finishedAt: null,
      result: null,
    };
    this.#records.set(id, record);
    this.#queue.add(async () => {
      const running = { ...this.#records.get(id), state: 'running', startedAt: Date.now() };
      this.#records.set(id, running);
      this.events.emit('task:started', running);
      let result = null;
      let state = 'succeeded';
      try {
        result = await run();
      } catch {
        state = 'failed';
      }
      const done = { ...running, state, result, finishedAt: Date.now() };
      this.#records.set(id, done);
      this.#finished.push(id);
      if (this.#finished.length > RETAINED) this.#records.delete(this.#finished.shift());
      this.events.emit('task:finished', done);
    });
    return record;
  }

  onIdle() {
    return this.#queue.onIdle();
  }
}

/** Runs `count` no-op tasks through the floor at `concurrency`; resolves with tasks per second. */
export async function floorRate(count, concurrency) {
  const floor = new FloorRuntime(concurrency);
  let finished = 0;
  const done = new Promise((resolve) =>
    floor.events.on('task:finished', () => {
      if (++finished === count) resolve();
    }),
  );
  const t0 = performance.now();
  for (let i = 0; i < count; i++) floor.execute(async () => null);
  await done;
  return (count / (performance.now() - t0)) * 1000;
}
