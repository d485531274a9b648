// Isolated tasks (worker threads, child processes) against in-process ones: throughput of no-op and 1 ms CPU
// tasks, the latency from execute() to the task's start, and how long a worker takes to start.
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { compare, emit, ensureBuilt, percentile, root, row, size } from './lib.mjs';

ensureBuilt('core');
const { createHost } = await import('@plugboard/core');
// `now` is the clock the plugins report with: one clock for every thread and process.
const { CpuPlugin, NoopPlugin, now } = await import('./isolation-plugins.mjs');

const CONCURRENCY = 4;
const MODULE = join(root, 'bench', 'isolation-plugins.mjs');
const ENTRY = join(root, 'packages', 'core', 'dist', 'isolated-worker.js');

async function startedHost(mode, concurrency = CONCURRENCY) {
  const host = createHost({
    env: false,
    argv: [],
    concurrency,
    plugins: { classes: [NoopPlugin, CpuPlugin] },
    isolation: { mode, modules: { noop: MODULE, cpu: MODULE }, idleWorkers: CONCURRENCY },
  });
  await host.start();
  // Start the workers before measuring: a host starts them once, on its first tasks.
  await runMany(host, 'noop', concurrency * 4);
  return host;
}

/** Tasks per second for `count` tasks of plugin `id`, all queued at once. */
async function runMany(host, id, count) {
  const t0 = performance.now();
  const ids = [];
  for (let i = 0; i < count; i++) ids.push((await host.execute(id, {})).tasks[0].id);
  await Promise.all(ids.map((taskId) => host.tasks.wait(taskId)));
  return (count / (performance.now() - t0)) * 1000;
}

/** Milliseconds from execute() to the start of the task's run, one task at a time. */
async function startLatencies(host, count) {
  const out = [];
  for (let i = 0; i < count; i++) {
    const t0 = now();
    const { tasks } = await host.execute('noop', {});
    const record = await host.tasks.wait(tasks[0].id);
    out.push(record.result - t0);
  }
  return out;
}

function startThread() {
  const t0 = performance.now();
  const worker = new Worker(ENTRY);
  return new Promise((resolve) =>
    worker.on('message', (m) => {
      if (m.type === 'ready') {
        resolve(performance.now() - t0);
        void worker.terminate();
      }
    }),
  );
}

function startProcess() {
  const t0 = performance.now();
  const child = fork(ENTRY, [], { serialization: 'advanced', stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
  return new Promise((resolve) =>
    child.on('message', (m) => {
      if (m.type === 'ready') {
        resolve(performance.now() - t0);
        child.kill();
      }
    }),
  );
}

const rows = [];
const hosts = {
  none: await startedHost('none'),
  thread: await startedHost('thread'),
  process: await startedHost('process'),
};
const serialHosts = {
  none: await startedHost('none', 1),
  thread: await startedHost('thread', 1),
  process: await startedHost('process', 1),
};
const COUNT = size(2000, 100);
const CPU_COUNT = size(1000, 50);

for (const mode of ['thread', 'process']) {
  const noop = await compare({
    candidate: () => runMany(hosts[mode], 'noop', COUNT),
    baseline: () => runMany(hosts.none, 'noop', COUNT),
    rounds: size(5, 1),
  });
  rows.push(
    row({
      figure: `isolated (${mode}) no-op tasks`,
      value: noop.candidate,
      unit: 'tasks/s',
      baseline: 'in-process',
      baselineValue: noop.baseline,
      ratio: noop.candidate / noop.baseline,
      notes: `concurrency ${CONCURRENCY}; each task crosses the boundary twice (run, end)`,
    }),
  );
  const cpu = await compare({
    candidate: () => runMany(hosts[mode], 'cpu', CPU_COUNT),
    baseline: () => runMany(hosts.none, 'cpu', CPU_COUNT),
    rounds: size(5, 1),
  });
  rows.push(
    row({
      figure: `isolated (${mode}) 1 ms CPU tasks`,
      value: cpu.candidate,
      unit: 'tasks/s',
      baseline: 'in-process',
      baselineValue: cpu.baseline,
      ratio: cpu.candidate / cpu.baseline,
      notes: `concurrency ${CONCURRENCY}; in-process tasks share one core, isolated ones spread over the cores`,
    }),
  );
  // One at a time, the cores do not help: what is left is the cost of crossing the boundary.
  const serial = await compare({
    candidate: () => runMany(serialHosts[mode], 'cpu', CPU_COUNT / 2),
    baseline: () => runMany(serialHosts.none, 'cpu', CPU_COUNT / 2),
    rounds: size(5, 1),
  });
  rows.push(
    row({
      figure: `isolated (${mode}) 1 ms CPU tasks, one at a time`,
      value: serial.candidate,
      unit: 'tasks/s',
      baseline: 'in-process',
      baselineValue: serial.baseline,
      ratio: serial.candidate / serial.baseline,
      target: { min: 0.91, text: 'a task costs <= 1.1x in-process' },
      notes: 'concurrency 1: the per-task cost of the boundary, without the gain of more cores',
    }),
  );
}

for (const mode of ['none', 'thread', 'process']) {
  const latencies = await startLatencies(hosts[mode], size(200, 20));
  for (const p of [50, 99]) {
    rows.push(
      row({
        figure: `task start latency p${p} (${mode === 'none' ? 'in-process' : mode})`,
        value: percentile(latencies, p),
        unit: 'ms',
        notes: p === 50 ? 'execute() to the start of run(), one task at a time, warm workers' : undefined,
      }),
    );
  }
}

for (const [mode, start] of [
  ['thread', startThread],
  ['process', startProcess],
]) {
  const times = [];
  for (let i = 0; i < size(10, 2); i++) times.push(await start());
  rows.push(
    row({
      figure: `worker start (${mode})`,
      value: percentile(times, 50),
      unit: 'ms',
      notes: `median of ${times.length}: from spawn to the bootstrap's ready message (dist build)`,
    }),
  );
}

for (const host of [...Object.values(hosts), ...Object.values(serialHosts)]) await host.stop();
emit(rows);
