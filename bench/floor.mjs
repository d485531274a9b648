// The floor of a tracked task on p-queue: the least any runtime that keeps a record per task can do. Each task gets
// an id and a record in a bounded map, is marked running and finished (a new record each time, as a store that
// hands out snapshots must), and announces both changes on an event bus. It has no context, signal, log,
// progress, timeout, retry or cancel: the benchmarks run it beside the in-process runtime as its own baseline, so
// the table shows how far from this floor the runtime is. `FloorOnStore` is the same floor with the runtime's
// records in a real task store, to split the runtime's distance from the floor between the store and the runtime.
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

/**
 * The floor with its records in a real store: the same tracked task, but each record is the runtime's (21 fields),
 * inserted into `store` before the task is queued; the `running` change is written without waiting (as the runtime
 * writes it) and the end, the fields the runtime writes, is awaited before `task:finished`. Set beside the floor,
 * it shows what the store's snapshot records cost; set beside the runtime, what the runtime's own contract costs.
 * `store` is an opened task store (the memory store in the benchmarks); `createTaskId` is the SDK's.
 */
export class FloorOnStore {
  #queue;
  #store;
  #createTaskId;
  events = new EventEmitter();

  constructor(concurrency, { store, createTaskId }) {
    this.#queue = new PQueue({ concurrency });
    this.#store = store;
    this.#createTaskId = createTaskId;
  }

  /** Creates a task record, inserts it and queues `run` for it; resolves with the record once it is queued. */
  async execute(run) {
    const store = this.#store;
    const now = Date.now();
    const record = {
      id: this.#createTaskId(now),
      pluginId: 'noop',
      taskType: 'noop/NoopTask',
      input: {},
      user: { id: 'bench' },
      state: 'queued',
      progress: 0,
      progressMessage: null,
      statusText: null,
      createdAt: now,
      startedAt: null,
      finishedAt: null,
      result: null,
      error: null,
      attempt: 1,
      maxAttempts: 1,
      priority: 0,
      timeoutMs: null,
      scheduleId: null,
      contextId: null,
      logCount: 0,
    };
    await store.insertTask(record);
    const { id } = record;
    this.#queue.add(async () => {
      const start = {
        state: 'running',
        startedAt: Date.now(),
        finishedAt: null,
        progress: 0,
        progressMessage: null,
      };
      const running = { ...record, ...start };
      store.updateTask(id, start).catch((error) => this.events.emit('error', error));
      this.events.emit('task:started', running);
      let result = null;
      let state = 'succeeded';
      try {
        result = await run();
      } catch {
        state = 'failed';
      }
      const end = {
        state,
        attempt: running.attempt,
        startedAt: running.startedAt,
        finishedAt: Date.now(),
        result,
        error: null,
        progress: state === 'succeeded' ? 100 : running.progress,
        progressMessage: running.progressMessage,
        statusText: running.statusText,
        logCount: running.logCount,
      };
      const done = { ...running, ...end };
      await store.updateTask(id, end);
      this.events.emit('task:finished', done);
    });
    return record;
  }
}

/** Runs `count` no-op tasks through the floor on `store` at `concurrency`; resolves with tasks per second. */
export async function floorOnStoreRate(count, concurrency, { store, createTaskId }) {
  await store.open();
  const floor = new FloorOnStore(concurrency, { store, createTaskId });
  let finished = 0;
  const done = new Promise((resolve) =>
    floor.events.on('task:finished', () => {
      if (++finished === count) resolve();
    }),
  );
  const t0 = performance.now();
  // Each execute is awaited, as the runtime's benchmark awaits each insert and enqueue.
  for (let i = 0; i < count; i++) await floor.execute(async () => null);
  await done;
  const rate = (count / (performance.now() - t0)) * 1000;
  await store.close();
  return rate;
}
