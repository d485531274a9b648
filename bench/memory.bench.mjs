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

async function run(count, offset, plugin = 'work', on = host) {
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
    while (next < count) {
      const item = offset + next++;
      await on.execute(plugin, plugin === 'work' ? { item } : {});
    }
  };
  await Promise.all(Array.from({ length: 32 }, caller));
  await done;
}

const before = await heap();
await run(TOTAL / 2, 0);
const half = await heap();
await run(TOTAL / 2, TOTAL / 2);
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
await run(ISOLATED / 2, 0, 'noop', isolated);
const isolatedHalf = await heap();
await run(ISOLATED / 2, 0, 'noop', isolated);
const isolatedAfter = await heap();
await isolated.stop();

emit([
  row({
    figure: `memory: heap after ${TOTAL.toLocaleString('en-US')} finished tasks`,
    value: after / 2 ** 20,
    unit: 'MiB',
    baseline: `after ${(TOTAL / 2).toLocaleString('en-US')}`,
    baselineValue: half / 2 ** 20,
    ratio: after / half,
    target: { max: 1.1, text: 'flat (<= 1.1x)' },
    notes: `heap before: ${(before / 2 ** 20).toFixed(1)} MiB`,
  }),
  row({
    figure: `memory: heap after ${ISOLATED.toLocaleString('en-US')} isolated (thread) tasks`,
    value: isolatedAfter / 2 ** 20,
    unit: 'MiB',
    baseline: `after ${(ISOLATED / 2).toLocaleString('en-US')}`,
    baselineValue: isolatedHalf / 2 ** 20,
    ratio: isolatedAfter / isolatedHalf,
    target: { max: 1.1, text: 'flat (<= 1.1x)' },
    notes: 'no-op tasks on warm worker threads, default retention',
  }),
  row({
    figure: 'memory: bytes per retained finished task',
    value: (after - before) / retained,
    unit: 'B',
    notes: `${retained.toLocaleString('en-US')} retained (default retention), with a log line and a result each`,
  }),
]);
