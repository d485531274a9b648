import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TaskWorker, type WorkerExit } from '../../src/runtime/isolated/task-worker.js';

// A worker that says it is ready and exits with code 3 when told anything.
const entry = join(mkdtempSync(join(tmpdir(), 'plugboard-task-worker-')), 'worker.mjs');
writeFileSync(
  entry,
  `import { parentPort } from 'node:worker_threads';
parentPort.on('message', () => process.exit(3));
parentPort.postMessage({ type: 'ready' });
`,
);

const workers: TaskWorker[] = [];
afterEach(async () => {
  for (const worker of workers.splice(0)) await worker.terminate();
});

async function readyWorker(): Promise<TaskWorker> {
  const worker = new TaskWorker({ mode: 'thread', entry, execArgv: [], memoryLimitMb: 64 });
  workers.push(worker);
  await new Promise<void>((resolve) => {
    const off = worker.onMessage((message) => {
      if (message.type === 'ready') {
        off();
        resolve();
      }
    });
  });
  return worker;
}

describe('TaskWorker.onExit', () => {
  it('tells each listener still attached how the worker ended, and no listener removed', async () => {
    const worker = await readyWorker();
    const heard: WorkerExit[] = [];
    const removed: WorkerExit[] = [];
    worker.onExit((exit) => heard.push(exit));
    const stop = worker.onExit((exit) => removed.push(exit));
    stop();
    worker.send({ type: 'abort', id: 'x', code: 'PLUGBOARD_TASK_CANCELLED', message: 'exit, please' });
    const exit = await worker.exited;
    expect(exit).toMatchObject({ code: 3, terminated: false });
    expect(heard).toEqual([exit]);
    expect(removed).toEqual([]);
  });

  it('calls a listener added after the end in a microtask, unless it was removed first', async () => {
    const worker = await readyWorker();
    await worker.terminate();
    const heard: WorkerExit[] = [];
    worker.onExit((exit) => heard.push(exit));
    const stop = worker.onExit((exit) => heard.push({ ...exit, code: -1 }));
    stop();
    expect(heard).toEqual([]);
    await Promise.resolve();
    expect(heard).toEqual([expect.objectContaining({ terminated: true })]);
  });
});
