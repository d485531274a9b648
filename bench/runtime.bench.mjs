// Throughput of the in-process runtime, of the full host.execute path and of the SQLite store, each against
// a baseline measured in the same run: bare p-queue for the first two, the memory store for the third.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import PQueue from 'p-queue';
import { compare, emit, ensureBuilt, row, scratch, size, want } from './lib.mjs';

ensureBuilt('core');
ensureBuilt('sqlite');
const core = await import('@plugboard/core');
const { sqliteStore } = await import('@plugboard/sqlite');
const { ActionPlugin, Task, createHost, inProcessRuntime, memoryStore, Type } = core;
const { createTaskId } = await import('@plugboard/core/spi');

const CONCURRENCY = 4;
const IN_FLIGHT = 32;

class NoopTask extends Task {
  async run() {
    return null;
  }
}

class NoopPlugin extends ActionPlugin({
  id: 'noop',
  name: 'No-op',
  args: Type.Object({ label: Type.String({ default: 'x', maxLength: 40 }) }),
  tasks: [NoopTask],
}) {
  createTasks() {
    return [new NoopTask({})];
  }
}

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
async function throughRuntime(count, limits) {
  const store = memoryStore();
  await store.open();
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

const rows = [];

if (want('runtime')) {
  const count = size(20_000, 1_000);
  const r = await compare({ candidate: () => throughRuntime(count), baseline: () => bareQueue(count) });
  rows.push(
    row({
      figure: 'in-process runtime, no-op tasks',
      value: r.candidate,
      unit: 'tasks/s',
      baseline: 'bare p-queue',
      baselineValue: r.baseline,
      ratio: r.candidate / r.baseline,
      target: { min: 0.5 },
      notes: `${count} tasks a round, concurrency ${CONCURRENCY}`,
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
  rmSync(dir, { recursive: true, force: true });
  rows.push(
    row({
      figure: 'SQLite store, every state change persisted',
      value: r.candidate,
      unit: 'tasks/s',
      baseline: 'memory store',
      baselineValue: r.baseline,
      ratio: r.candidate / r.baseline,
      target: { min: 0.5 },
      notes: `${count} executions a round through host.execute, ${IN_FLIGHT} callers`,
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
