// Heap after many finished tasks with the default retention: it must stay flat once retention is full.
// Run with --expose-gc (the runner does); the heap is read after a full collection.
import { emit, ensureBuilt, row, size } from './lib.mjs';

if (typeof globalThis.gc !== 'function') {
  console.error('memory.bench.mjs needs node --expose-gc');
  process.exit(1);
}
ensureBuilt('core');
const { ActionPlugin, Task, Type, createHost } = await import('@plugboard/core');

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

async function run(count, offset) {
  let finished = 0;
  const done = new Promise((resolve) => {
    const onFinished = () => {
      if (++finished === count) {
        host.events.off('task:finished', onFinished);
        resolve();
      }
    };
    host.events.on('task:finished', onFinished);
  });
  let next = 0;
  const caller = async () => {
    while (next < count) await host.execute('work', { item: offset + next++ });
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
    figure: 'memory: bytes per retained finished task',
    value: (after - before) / retained,
    unit: 'B',
    notes: `${retained.toLocaleString('en-US')} retained (default retention), with a log line and a result each`,
  }),
]);
