// Throughput of the in-process runtime, of the full host.execute path and of the SQLite store, each against
// a baseline measured in the same run: bare p-queue for the first two, the memory store for the third.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import PQueue from 'p-queue';
import { floorOnStoreRate, floorRate } from './floor.mjs';
import { compare, compareMany, emit, ensureBuilt, percentile, row, scratch, size, want } from './lib.mjs';
import { sqliteFloorRate } from './sqlite-floor.mjs';

ensureBuilt('core');
ensureBuilt('sqlite');
const core = await import('@plugboard/core');
const { sqliteStore } = await import('@plugboard/sqlite');
const { createHost, inProcessRuntime, memoryStore } = core;
const { createTaskId } = await import('@plugboard/core/spi');

const { CONCURRENCY, IN_FLIGHT, NoopPlugin, NoopTask } = await import('./noop-plugin.mjs');

const perSecond = (count, ms) => (count / ms) * 1000;

/** Bare p-queue: the same number of no-op async functions at the same concurrency. */
async function bareQueue(count) {
  const queue = new PQueue({ concurrency: CONCURRENCY });
  const t0 = performance.now();
  for (let i = 0; i < count; i++) queue.add(async () => null);
  await queue.onIdle();
  return perSecond(count, performance.now() - t0);
}

/**
 * The runtime alone: records in the memory store, events on a bus, tasks rebuilt from their records. With
 * `limits`, every task's plugin has them, so each task goes through the plugin's admission.
 */
async function throughRuntime(count, limits, { keepNothing = false } = {}) {
  const store = memoryStore();
  await store.open();
  if (keepNothing) {
    // Diagnostic: every write is accepted and dropped, so the runtime's own cost shows without the store's.
    store.insertTask = async () => {};
    store.updateTask = async () => {};
  }
  const events = new EventEmitter();
  const runtime = inProcessRuntime({ concurrency: CONCURRENCY });
  await runtime.start({
    store,
    events,
    instantiate: (record) => ({ task: new NoopTask(record.input), properties: {} }),
    retryPolicy: () => undefined,
    now: () => Date.now(),
    logLevel: 'info',
    maxLogLineLength: 10_000,
    progressIntervalMs: 100,
    reportError: (error) => {
      throw error;
    },
    ...(limits ? { pluginLimits: () => limits } : {}),
  });
  let finished = 0;
  const done = new Promise((resolve) =>
    events.on('task:finished', () => {
      if (++finished === count) resolve();
    }),
  );
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const now = Date.now();
    const record = {
      id: createTaskId(now),
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
    await runtime.enqueue(record);
  }
  await done;
  const rate = perSecond(count, performance.now() - t0);
  await runtime.stop({ timeoutMs: 1000 });
  await store.close();
  return rate;
}

/** The whole path a host takes: validation, authorisation, task creation, runtime, store, events. */
async function throughHost(count, store, { keyed = false } = {}) {
  const host = createHost({ plugins: { classes: [NoopPlugin] }, store, concurrency: CONCURRENCY, argv: [] });
  await host.start();
  let finished = 0;
  const done = new Promise((resolve) =>
    host.events.on('task:finished', () => {
      if (++finished === count) resolve();
    }),
  );
  const user = { id: 'bench', permissions: [] };
  const t0 = performance.now();
  // Callers submit concurrently, as requests to a server do: up to IN_FLIGHT executions wait at once.
  let submitted = 0;
  const caller = async () => {
    while (submitted < count) {
      submitted++;
      const options = keyed ? { user, idempotencyKey: `bench-${submitted}` } : { user };
      await host.execute('noop', { label: 'run' }, options);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, caller));
  await done;
  const rate = perSecond(count, performance.now() - t0);
  await host.stop({ timeoutMs: 1000 });
  return rate;
}

/**
 * Fills a store's retention before a run: `count` finished tasks, so every finish of the run evicts the oldest, as
 * in a host that has run for a while (the default keeps 10,000 finished tasks).
 */
async function retentionFull(store, count = 10_000) {
  await store.open();
  const now = Date.now();
  const writes = [];
  for (let i = 0; i < count; i++) {
    writes.push(
      store.insertTask({
        id: createTaskId(now - count + i),
        pluginId: 'noop',
        taskType: 'noop/NoopTask',
        input: { label: 'run' },
        user: { id: 'bench' },
        state: 'succeeded',
        progress: 100,
        progressMessage: null,
        statusText: null,
        createdAt: now - count + i,
        startedAt: now - count + i,
        finishedAt: now - count + i,
        result: null,
        error: null,
        attempt: 1,
        maxAttempts: 1,
        priority: 0,
        timeoutMs: null,
        scheduleId: null,
        contextId: null,
        logCount: 0,
      }),
    );
  }
  await Promise.all(writes);
  return store;
}

/**
 * Latency from `host.execute` to `task:started`, in ms, with as many callers as the runtime has slots: each caller
 * waits for its task to finish before the next, so no task waits for a slot and the figure is the path itself.
 */
async function startLatencies(count) {
  const host = createHost({ plugins: { classes: [NoopPlugin] }, concurrency: CONCURRENCY, argv: [] });
  await host.start();
  // A task may start before execute returns its id: start times are kept by id and matched afterwards.
  const started = new Map();
  const finished = new Map();
  host.events.on('task:started', (record) => started.set(record.id, performance.now()));
  const ended = new Set();
  host.events.on('task:finished', (record) => {
    ended.add(record.id);
    finished.get(record.id)?.();
  });
  const latencies = [];
  const user = { id: 'bench', permissions: [] };
  let submitted = 0;
  const caller = async () => {
    while (submitted < count) {
      submitted++;
      const t0 = performance.now();
      const { tasks } = await host.execute('noop', { label: 'run' }, { user });
      const id = tasks[0].id;
      await new Promise((resolve) => {
        if (ended.has(id)) resolve();
        else finished.set(id, resolve);
      });
      latencies.push(started.get(id) - t0);
      started.delete(id);
      finished.delete(id);
      ended.delete(id);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, caller));
  await host.stop({ timeoutMs: 1000 });
  return latencies;
}

const rows = [];

if (want('runtime')) {
  const count = size(20_000, 1_000);
  const r = await compareMany({
    queue: () => bareQueue(count),
    floor: () => floorRate(count, CONCURRENCY),
    floorOnStore: () => floorOnStoreRate(count, CONCURRENCY, { store: memoryStore(), createTaskId }),
    runtime: () => throughRuntime(count),
    storeless: () => throughRuntime(count, undefined, { keepNothing: true }),
  });
  rows.push(
    row({
      figure: 'in-process runtime, no-op tasks',
      value: r.runtime,
      unit: 'tasks/s',
      baseline: 'bare p-queue',
      baselineValue: r.queue,
      ratio: r.runtime / r.queue,
      target: { min: 0.4 },
      notes: `${count} tasks a round, concurrency ${CONCURRENCY}`,
    }),
    row({
      figure: 'floor: tracked task on p-queue (bench/floor.mjs)',
      value: r.floor,
      unit: 'tasks/s',
      baseline: 'bare p-queue',
      baselineValue: r.queue,
      ratio: r.floor / r.queue,
      notes: 'a record, an id, two state changes, two events and retention per task; nothing else',
    }),
    row({
      figure: 'in-process runtime against the floor',
      value: r.runtime,
      unit: 'tasks/s',
      baseline: 'floor',
      baselineValue: r.floor,
      ratio: r.runtime / r.floor,
      notes: 'the share of the floor the runtime reaches in the same run',
    }),
    row({
      figure: 'floor on the memory store (bench/floor.mjs)',
      value: r.floorOnStore,
      unit: 'tasks/s',
      baseline: 'bare p-queue',
      baselineValue: r.queue,
      ratio: r.floorOnStore / r.queue,
      notes:
        "the floor with the runtime's 21-field records in the memory store: an insert, the running and end writes",
    }),
    row({
      figure: 'in-process runtime against the floor on the memory store',
      value: r.runtime,
      unit: 'tasks/s',
      baseline: 'floor on the memory store',
      baselineValue: r.floorOnStore,
      ratio: r.runtime / r.floorOnStore,
      notes: "the same store under both: what is left is the runtime's own contract",
    }),
    row({
      figure: 'in-process runtime on a store that keeps nothing',
      value: r.storeless,
      unit: 'tasks/s',
      baseline: 'floor',
      baselineValue: r.floor,
      ratio: r.storeless / r.floor,
      notes:
        "diagnostic: the store's writes accepted and dropped, so the rest of the gap to the floor is the runtime's own",
    }),
  );
}

if (want('limited')) {
  const count = size(20_000, 1_000);
  // A limit as wide as the runtime: what is measured is the admission's bookkeeping, not a narrower pipe.
  const limits = { concurrency: CONCURRENCY };
  const r = await compare({
    candidate: () => throughRuntime(count, limits),
    baseline: () => throughRuntime(count),
  });
  const extraUs = (1 / r.candidate - 1 / r.baseline) * 1e6;
  rows.push(
    row({
      figure: "in-process runtime, a limited plugin's admission",
      value: r.candidate,
      unit: 'tasks/s',
      baseline: 'same runtime, no limits',
      baselineValue: r.baseline,
      ratio: r.candidate / r.baseline,
      // Each task held back records why it waits, and clears it when it starts: two store writes.
      target: { min: 0.6 },
      notes: `${count} tasks a round, limit concurrency ${CONCURRENCY}; admission ${extraUs.toFixed(2)} µs a task`,
    }),
  );
}

if (want('host')) {
  const count = size(10_000, 500);
  const r = await compare({
    candidate: () => throughHost(count, memoryStore()),
    baseline: () => bareQueue(count),
  });
  rows.push(
    row({
      figure: 'host.execute full path, memory store',
      value: r.candidate,
      unit: 'tasks/s',
      baseline: 'bare p-queue',
      baselineValue: r.baseline,
      ratio: r.candidate / r.baseline,
      notes: `${count} executions a round, ${IN_FLIGHT} callers`,
    }),
  );
}

if (want('sqlite')) {
  const count = size(5_000, 300);
  const dir = scratch('sqlite');
  let n = 0;
  const r = await compare({
    rounds: size(5, 1),
    candidate: () => throughHost(count, sqliteStore({ path: join(dir, `tasks-${n++}.db`) })),
    baseline: () => throughHost(count, memoryStore()),
  });
  const retained = size(10_000, 300);
  const steady = await compareMany(
    {
      candidate: async () =>
        throughHost(
          count,
          await retentionFull(
            sqliteStore({ path: join(dir, `steady-${n++}.db`), maxFinishedTasks: retained }),
            retained,
          ),
        ),
      baseline: async () =>
        throughHost(count, await retentionFull(memoryStore({ maxFinishedTasks: retained }), retained)),
      floor: () =>
        sqliteFloorRate({
          dir,
          makeStore: (path) => sqliteStore({ path, maxFinishedTasks: retained }),
          count,
          retained,
          createTaskId,
        }),
    },
    { rounds: size(5, 1) },
  );
  // The most the SQLite row can reach on this schema: the memory store's path plus the floor's statements.
  const ceiling = 1 / (1 / steady.baseline + 1 / steady.floor);
  rmSync(dir, { recursive: true, force: true });
  rows.push(
    row({
      figure: 'SQLite store, fresh database',
      value: r.candidate,
      unit: 'tasks/s',
      baseline: 'memory store',
      baselineValue: r.baseline,
      ratio: r.candidate / r.baseline,
      notes: `${count} executions a round through host.execute, ${IN_FLIGHT} callers, every state change persisted; nothing evicted yet`,
    }),
    row({
      figure: 'SQLite store, steady state (retention full)',
      value: steady.candidate,
      unit: 'tasks/s',
      baseline: 'memory store, retention full',
      baselineValue: steady.baseline,
      ratio: steady.candidate / steady.baseline,
      target: { min: 0.5 },
      notes: `as above, both stores holding ${retained} finished tasks first: every finish evicts the oldest`,
    }),
    row({
      figure: 'SQLite floor: its statements alone (bench/sqlite-floor.mjs)',
      value: steady.floor,
      unit: 'tasks/s',
      notes: `the INSERT, end UPDATE and eviction of each task on the store's schema, ${retained} retained, 30 tasks a commit: ${(1e6 / steady.floor).toFixed(1)} µs a task`,
    }),
    row({
      figure: "SQLite ceiling: memory store's path plus the floor",
      value: ceiling,
      unit: 'tasks/s',
      baseline: 'memory store, retention full',
      baselineValue: steady.baseline,
      ratio: ceiling / steady.baseline,
      notes: 'the most the steady-state row can reach with these statements: compare its ratio with this one',
    }),
  );
}

if (want('latency')) {
  const latencies = await startLatencies(size(5_000, 200));
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  rows.push(
    row({
      figure: 'in-process runtime: host.execute to task:started, p50',
      value: p50 * 1000,
      unit: 'µs',
      notes: `${latencies.length} tasks, ${CONCURRENCY} callers each waiting for its task to finish (no queueing)`,
    }),
    row({
      figure: 'in-process runtime: host.execute to task:started, p99',
      value: p99 * 1000,
      unit: 'µs',
    }),
  );
}

if (want('idempotency')) {
  // Every execute carries a new key: the claim, the settle and the digest of the arguments, on each store.
  const usPerExecute = (rate) => 1e6 / rate;
  for (const [name, makeStore, count] of [
    ['memory', () => memoryStore(), size(10_000, 500)],
    ['SQLite', (n) => sqliteStore({ path: join(scratch('idempotency'), `keys-${n}.db`) }), size(5_000, 300)],
  ]) {
    let n = 0;
    const r = await compare({
      rounds: size(5, 1),
      candidate: () => throughHost(count, makeStore(n++), { keyed: true }),
      baseline: () => throughHost(count, makeStore(n++)),
    });
    const cost = usPerExecute(r.candidate) - usPerExecute(r.baseline);
    rows.push(
      row({
        figure: `idempotency check per execute, ${name} store`,
        value: cost,
        unit: 'µs/execute',
        baseline: 'the same executes without a key',
        baselineValue: usPerExecute(r.baseline),
        ratio: r.candidate / r.baseline,
        notes: `${count} executions a round through host.execute, each with a new key; value = extra µs per execute`,
      }),
    );
  }
  rmSync(scratch('idempotency'), { recursive: true, force: true });
}

emit(rows);
