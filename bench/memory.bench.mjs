// Heap after many finished tasks with the default retention, in-process and in worker threads: it must stay flat
// once retention is full.
// Run with --expose-gc (the runner does); the heap is read after a full collection.
import { join } from 'node:path';
import { emit, ensureBuilt, root, row, size } from './lib.mjs';

if (typeof globalThis.gc !== 'function') {
  console.error('memory.bench.mjs needs node --expose-gc');
  process.exit(1);
}
ensureBuilt('core');
const { ActionPlugin, Task, Type, createHost } = await import('@plugboard/core');
const { NoopPlugin } = await import('./isolation-plugins.mjs');

class WorkTask extends Task {
  async run(ctx) {
    ctx.log.info(`processing item ${this.input.item}`);
    ctx.progress(100);
    return { item: this.input.item, checksum: 'a3f1c2d4e5b6a7f8' };
  }
}

class WorkPlugin extends ActionPlugin({
  id: 'work',
  name: 'Work',
  args: Type.Object({ item: Type.Integer() }),
  tasks: [WorkTask],
}) {
  createTasks(args) {
    return [new WorkTask({ item: args.item })];
  }
}

const TOTAL = size(100_000, 4_000);
const host = createHost({ plugins: { classes: [WorkPlugin] }, argv: [], env: false, concurrency: 8 });
await host.start();
const retention = 10_000; // the memory store's default maxFinishedTasks

async function heap() {
  // Let callbacks that wait for the event loop (log flushes, timers) run before measuring.
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setTimeout(resolve, 50));
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Executes `count` times through 32 callers, `argsOf(n)` giving the n-th execution's arguments. */
async function run(on, plugin, count, argsOf) {
  let finished = 0;
  const done = new Promise((resolve) => {
    const onFinished = () => {
      if (++finished === count) {
        on.events.off('task:finished', onFinished);
        resolve();
      }
    };
    on.events.on('task:finished', onFinished);
  });
  let next = 0;
  const caller = async () => {
    while (next < count) await on.execute(plugin, argsOf(next++));
  };
  await Promise.all(Array.from({ length: 32 }, caller));
  await done;
}

const before = await heap();
await run(host, 'work', TOTAL / 2, (n) => ({ item: n }));
const half = await heap();
await run(host, 'work', TOTAL / 2, (n) => ({ item: TOTAL / 2 + n }));
const after = await heap();
const retained = Math.min(TOTAL, retention);
await host.stop();

// The same with every task in a worker thread: the host's side of the boundary (the stand-in task, its worker's
// listeners) must not grow with the tasks a long-lived worker has run.
const ISOLATED = size(40_000, 2_000);
const isolated = createHost({
  plugins: { classes: [NoopPlugin] },
  argv: [],
  env: false,
  concurrency: 4,
  isolation: { mode: 'thread', modules: { noop: join(root, 'bench', 'isolation-plugins.mjs') } },
});
await isolated.start();
await run(isolated, 'noop', ISOLATED / 2, () => ({}));
const isolatedHalf = await heap();
await run(isolated, 'noop', ISOLATED / 2, () => ({}));
const isolatedAfter = await heap();
await isolated.stop();

/** The row saying whether the heap stayed flat from `total / 2` tasks to `total`. */
function flatHeapRow(total, what, half, after, notes) {
  return row({
    figure: `memory: heap after ${total.toLocaleString('en-US')} ${what}`,
    value: after / 2 ** 20,
    unit: 'MiB',
    baseline: `after ${(total / 2).toLocaleString('en-US')}`,
    baselineValue: half / 2 ** 20,
    ratio: after / half,
    target: { max: 1.1, text: 'flat (<= 1.1x)' },
    notes,
  });
}

emit([
  flatHeapRow(TOTAL, 'finished tasks', half, after, `heap before: ${(before / 2 ** 20).toFixed(1)} MiB`),
  flatHeapRow(
    ISOLATED,
    'isolated (thread) tasks',
    isolatedHalf,
    isolatedAfter,
    'no-op tasks on warm worker threads, default retention',
  ),
  row({
    figure: 'memory: bytes per retained finished task',
    value: (after - before) / retained,
    unit: 'B',
    notes: `${retained.toLocaleString('en-US')} retained (default retention), with a log line and a result each`,
  }),
]);
