// The BullMQ runtime against bare BullMQ (same Redis, same concurrency), and how it scales with workers on
// I/O-bound tasks. Starts its own redis-server on a free loopback port.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { compareMany, emit, ensureBuilt, percentile, row, size, sleep } from './lib.mjs';

ensureBuilt('core');
ensureBuilt('bullmq');
const { createHost } = await import('@plugboard/core');
const { bullmqRuntime } = await import('@plugboard/bullmq');
const { Queue, QueueEvents } = await import('bullmq');
const { Redis } = await import('ioredis');
const { NoopPlugin, WaitPlugin } = await import('./bullmq-plugins.mjs');

const CONCURRENCY = 8;
/** The BullMQ priority the runtime gives a task of priority 0 (BullMQ runs lower numbers first). */
const CENTRE_PRIORITY = 1_000_000;
/** What the runtime keeps of finished jobs by default, used by the bare baseline too. */
const KEEP = { age: 86_400, count: 10_000 };
const workerScript = fileURLToPath(new URL('./bullmq-worker.mjs', import.meta.url));

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startRedis() {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('Ready to accept connections')) resolve();
    });
  });
  child.removeAllListeners('exit');
  return {
    port,
    pid: child.pid,
    stop: async () => {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

async function startWorkers(mode, count, options) {
  const workers = await Promise.all(
    Array.from({ length: count }, async () => {
      const child = spawn(process.execPath, [workerScript, mode, JSON.stringify(options)], {
        stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      });
      let out = '';
      await new Promise((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`${mode} worker exited with ${code}`)));
        child.stdout.on('data', (chunk) => {
          out += chunk;
          if (out.includes('ready')) resolve();
        });
      });
      child.removeAllListeners('exit');
      return child;
    }),
  );
  const stop = async () => {
    for (const child of workers) child.kill('SIGTERM');
    await Promise.all(workers.map((child) => (child.exitCode === null ? once(child, 'exit') : null)));
  };
  stop.pids = workers.map((child) => child.pid);
  return stop;
}

/** CPU time (user and system) a process has used, in µs, from /proc; undefined where there is no /proc. */
function cpuOf(pid) {
  try {
    // Fields 14 and 15 of /proc/<pid>/stat (after the command name), in clock ticks of 10 ms.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return undefined;
  }
}

/** CPU used so far by the API process (this one), Redis and the workers, in µs. */
function cpuReading(redisPid, workerPids) {
  const own = process.cpuUsage();
  const workers = workerPids.map(cpuOf);
  return {
    api: own.user + own.system,
    redis: cpuOf(redisPid),
    worker: workers.includes(undefined) ? undefined : workers.reduce((a, b) => a + b, 0),
  };
}

const cpuPerTask = (before, after, count) =>
  Object.fromEntries(
    Object.keys(before).map((key) => [
      key,
      before[key] === undefined || after[key] === undefined ? undefined : (after[key] - before[key]) / count,
    ]),
  );

/**
 * Redis's own counters: commands it ran (every command, from every client) and bytes it received and sent. Read
 * before and after a round's tasks, they give the commands and bytes per task.
 */
async function redisCounters(port) {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
  await client.connect();
  const commandstats = await client.info('commandstats');
  const stats = await client.info('stats');
  client.disconnect();
  let commands = 0;
  for (const match of commandstats.matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)) commands += Number(match[1]);
  const field = (name) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(stats)[1]);
  // The two INFO calls and the connection that read them count too: about three commands, a few kilobytes.
  return { commands, bytes: field('total_net_input_bytes') + field('total_net_output_bytes') };
}

/** The change in Redis's counters per task between two readings. */
const perTask = (before, after, count) => ({
  commands: (after.commands - before.commands) / count,
  bytes: (after.bytes - before.bytes) / count,
});

/** A started API host with the BullMQ runtime on `queue`, offering the bench plugins. */
async function startApiHost(port, queue) {
  const host = createHost({
    plugins: { classes: [NoopPlugin, WaitPlugin] },
    runtime: bullmqRuntime({ connection: { host: '127.0.0.1', port }, queue }),
    argv: [],
    env: false,
  });
  await host.start();
  return host;
}

let round = 0;
const debug = (...args) => process.env.BENCH_DEBUG && console.error('[bullmq bench]', ...args);

/** Tasks per second through an API host with the BullMQ runtime and `workers` worker processes. */
async function throughPlugboard(port, { workers, count, plugin, args, traffic }) {
  const queue = `pb-${round++}`;
  debug('plugboard round', queue, workers);
  const stopWorkers = await startWorkers('plugboard', workers, { port, queue, concurrency: CONCURRENCY });
  debug('workers ready');
  const host = await startApiHost(port, queue);
  let finished = 0;
  let failed = 0;
  const done = new Promise((resolve) =>
    host.events.on('task:finished', (record) => {
      if (record.state !== 'succeeded') failed++;
      if (++finished === count) resolve();
    }),
  );
  const counted = traffic ? await redisCounters(port) : undefined;
  const cpu = traffic ? cpuReading(traffic.redisPid, stopWorkers.pids) : undefined;
  const t0 = performance.now();
  let next = 0;
  const caller = async () => {
    while (next++ < count) await host.execute(plugin, args);
  };
  await Promise.all(Array.from({ length: 16 }, caller));
  debug('executed');
  await done;
  debug('done');
  const rate = (count / (performance.now() - t0)) * 1000;
  if (traffic) {
    traffic.cpu = cpuPerTask(cpu, cpuReading(traffic.redisPid, stopWorkers.pids), count);
    Object.assign(traffic, perTask(counted, await redisCounters(port), count));
  }
  await host.stop({ timeoutMs: 2000 });
  await stopWorkers();
  if (failed > 0) throw new Error(`${failed} of ${count} tasks did not succeed`);
  return rate;
}

/**
 * Jobs per second through a bare BullMQ Queue and Worker process with a no-op processor. With `prioritised`,
 * every job carries the priority the runtime gives a task of priority 0: BullMQ's floor for a runtime that
 * offers priorities (its jobs without one are served before every prioritised job, so every task needs one).
 */
async function throughBullmq(port, count, traffic, { prioritised = false } = {}) {
  const queue = `bare-${round++}`;
  const connection = { host: '127.0.0.1', port, maxRetriesPerRequest: null };
  debug('bare round', queue);
  const stopWorkers = await startWorkers('bare', 1, { port, queue, concurrency: CONCURRENCY });
  debug('bare worker ready');
  const q = new Queue(queue, { connection });
  // Read the queue's event stream from its start: a reader that starts at `$` misses completions that happen
  // before its first blocking read is issued.
  const events = new QueueEvents(queue, { connection, lastEventId: '0' });
  await events.waitUntilReady();
  let completed = 0;
  const done = new Promise((resolve) =>
    events.on('completed', () => {
      if (++completed === count) resolve();
    }),
  );
  // Adds in the shape the runtime makes them: the jobs asked for in one turn of the event loop go out in one
  // addBulk, each with its own id, as the runtime's callers' tasks do.
  let batch = [];
  const flush = () => {
    const jobs = batch;
    batch = [];
    q.addBulk(jobs.map((j) => j.job)).then(
      () => {
        for (const j of jobs) j.resolve();
      },
      (error) => {
        for (const j of jobs) j.reject(error);
      },
    );
  };
  let sequence = 0;
  const add = () =>
    new Promise((resolve, reject) => {
      if (batch.length === 0) setImmediate(flush);
      const opts = { jobId: `${queue}-${sequence++}`, removeOnComplete: KEEP, removeOnFail: KEEP };
      if (prioritised) opts.priority = CENTRE_PRIORITY;
      batch.push({ job: { name: 'noop', data: {}, opts }, resolve, reject });
    });
  const counted = traffic ? await redisCounters(port) : undefined;
  const cpu = traffic ? cpuReading(traffic.redisPid, stopWorkers.pids) : undefined;
  const t0 = performance.now();
  let next = 0;
  const caller = async () => {
    while (next++ < count) await add();
  };
  await Promise.all(Array.from({ length: 16 }, caller));
  debug('bare jobs added');
  await done;
  debug('bare done');
  const rate = (count / (performance.now() - t0)) * 1000;
  if (traffic) {
    traffic.cpu = cpuPerTask(cpu, cpuReading(traffic.redisPid, stopWorkers.pids), count);
    Object.assign(traffic, perTask(counted, await redisCounters(port), count));
  }
  await events.close();
  await q.obliterate({ force: true });
  await q.close();
  await stopWorkers();
  return rate;
}

/**
 * Latency from `host.execute` to `task:started` and to `task:finished` on the API process, in ms, with one worker
 * and as many callers as the worker has slots, each waiting for its task to finish before the next: no task waits
 * for a slot, so the figures are the path itself (the job's add, the worker's take, the update stream back).
 */
async function plugboardLatencies(port, count) {
  const queue = `lat-${round++}`;
  const stopWorkers = await startWorkers('plugboard', 1, { port, queue, concurrency: CONCURRENCY });
  const host = await startApiHost(port, queue);
  // A task may start, and even finish, before execute returns its id: times are kept by id and matched afterwards.
  const started = new Map();
  const ended = new Map();
  const waiting = new Map();
  host.events.on('task:started', (record) => started.set(record.id, performance.now()));
  host.events.on('task:finished', (record) => {
    ended.set(record.id, performance.now());
    waiting.get(record.id)?.();
  });
  const toStart = [];
  const toFinish = [];
  let next = 0;
  const caller = async () => {
    while (next++ < count) {
      const t0 = performance.now();
      const { tasks } = await host.execute('noop', {});
      const id = tasks[0].id;
      if (!ended.has(id)) await new Promise((resolve) => waiting.set(id, resolve));
      toStart.push(started.get(id) - t0);
      toFinish.push(ended.get(id) - t0);
      started.delete(id);
      ended.delete(id);
      waiting.delete(id);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, caller));
  await host.stop({ timeoutMs: 2000 });
  await stopWorkers();
  return { toStart, toFinish };
}

const redis = await startRedis();
const rows = [];
try {
  const count = size(2_000, 200);
  const r = await compareMany(
    {
      candidate: () => throughPlugboard(redis.port, { workers: 1, count, plugin: 'noop', args: {} }),
      baseline: () => throughBullmq(redis.port, count),
      prioritised: () => throughBullmq(redis.port, count, undefined, { prioritised: true }),
    },
    { rounds: size(3, 1), warmup: 1 },
  );
  rows.push(
    row({
      figure: 'BullMQ runtime: no-op jobs, API process + 1 worker',
      value: r.candidate,
      unit: 'tasks/s',
      baseline: 'bare BullMQ Queue + Worker',
      baselineValue: r.baseline,
      ratio: r.candidate / r.baseline,
      target: { min: 0.6 },
      notes: `${count} tasks a round, worker concurrency ${CONCURRENCY}, local Redis; the baseline adds its jobs as the runtime does (one addBulk per turn, own ids, same retention)`,
    }),
    row({
      figure: 'BullMQ floor: bare BullMQ, every job with a priority',
      value: r.prioritised,
      unit: 'tasks/s',
      baseline: 'bare BullMQ Queue + Worker',
      baselineValue: r.baseline,
      ratio: r.prioritised / r.baseline,
      notes: 'the same jobs with the priority the runtime gives a task of priority 0',
    }),
  );

  // Redis traffic per task, from one more round of each (the counters do not depend on the machine's load).
  const candidateTraffic = { redisPid: redis.pid };
  const baselineTraffic = { redisPid: redis.pid };
  // Larger than a throughput round, for the CPU readings' resolution (10 ms ticks).
  const trafficCount = size(5_000, 200);
  await throughPlugboard(redis.port, {
    workers: 1,
    count: trafficCount,
    plugin: 'noop',
    args: {},
    traffic: candidateTraffic,
  });
  await throughBullmq(redis.port, trafficCount, baselineTraffic);
  const prioritisedTraffic = { redisPid: redis.pid };
  await throughBullmq(redis.port, trafficCount, prioritisedTraffic, { prioritised: true });
  rows.push(
    row({
      figure: 'BullMQ runtime: Redis commands per task',
      value: candidateTraffic.commands,
      unit: 'commands',
      baseline: 'bare BullMQ',
      baselineValue: baselineTraffic.commands,
      ratio: candidateTraffic.commands / baselineTraffic.commands,
      target: { text: '<= 40 commands' },
      met: candidateTraffic.commands <= 40,
      notes: 'every command Redis ran during the round (API, worker and event readers), over the tasks',
    }),
    row({
      figure: 'BullMQ floor: Redis commands per task, bare BullMQ, every job with a priority',
      value: prioritisedTraffic.commands,
      unit: 'commands',
      baseline: 'bare BullMQ',
      baselineValue: baselineTraffic.commands,
      ratio: prioritisedTraffic.commands / baselineTraffic.commands,
      notes: `BullMQ's priority bookkeeping alone; ${Math.round(prioritisedTraffic.bytes)} B per task`,
    }),
    row({
      figure: 'BullMQ runtime: Redis commands per task, against the floor',
      value: candidateTraffic.commands,
      unit: 'commands',
      baseline: 'bare BullMQ, every job with a priority',
      baselineValue: prioritisedTraffic.commands,
      ratio: candidateTraffic.commands / prioritisedTraffic.commands,
      notes:
        "the runtime's own commands: the start mark and cancel check, the mark's clearing, the update stream",
    }),
    row({
      figure: 'BullMQ runtime: Redis bytes per task',
      value: candidateTraffic.bytes,
      unit: 'B',
      baseline: 'bare BullMQ',
      baselineValue: baselineTraffic.bytes,
      ratio: candidateTraffic.bytes / baselineTraffic.bytes,
      target: { max: 2 },
      notes: 'bytes Redis received and sent during the round, over the tasks',
    }),
  );
  // Where the CPU goes, from the same round: on a machine with fewer cores than processes, their sum bounds the rate.
  for (const [key, name] of [
    ['api', 'the API process'],
    ['redis', 'Redis'],
    ['worker', 'the worker'],
  ]) {
    const candidate = candidateTraffic.cpu[key];
    const baseline = baselineTraffic.cpu[key];
    if (candidate === undefined || baseline === undefined) continue;
    rows.push(
      row({
        figure: `BullMQ runtime: CPU per task, ${name}`,
        value: candidate,
        unit: 'µs',
        baseline: 'bare BullMQ',
        baselineValue: baseline,
        ratio: candidate / baseline,
        notes:
          key === 'api'
            ? 'user and system CPU time over the tasks of the traffic round (from /proc; 10 ms ticks)'
            : undefined,
      }),
    );
  }

  const latencies = await plugboardLatencies(redis.port, size(2_000, 100));
  const latencyNotes = `1 worker, ${CONCURRENCY} callers each waiting for its task to finish (no queueing), local Redis`;
  for (const [name, values] of [
    ['task:started', latencies.toStart],
    ['task:finished', latencies.toFinish],
  ]) {
    for (const p of [50, 99]) {
      rows.push(
        row({
          figure: `BullMQ runtime: host.execute to ${name}, p${p}`,
          value: percentile(values, p),
          unit: 'ms',
          notes: p === 50 ? `${values.length} tasks, ${latencyNotes}` : undefined,
        }),
      );
    }
  }

  const ioCount = size(320, 64);
  const waitMs = 50;
  const scaling = {};
  for (const workers of [1, 2, 4]) {
    const rates = [];
    for (let i = 0; i < size(3, 1); i++) {
      rates.push(
        await throughPlugboard(redis.port, { workers, count: ioCount, plugin: 'wait', args: { ms: waitMs } }),
      );
    }
    rates.sort((a, b) => a - b);
    scaling[workers] = rates[rates.length >> 1];
  }
  for (const workers of [2, 4]) {
    rows.push(
      row({
        figure: `BullMQ runtime scaling: ${workers} workers, I/O-bound tasks`,
        value: scaling[workers],
        unit: 'tasks/s',
        baseline: '1 worker',
        baselineValue: scaling[1],
        ratio: scaling[workers] / scaling[1],
        target: workers === 2 ? { min: 1.8 } : undefined,
        notes: `${ioCount} tasks of ${waitMs} ms each, concurrency ${CONCURRENCY} per worker`,
      }),
    );
  }
} finally {
  await redis.stop();
}
await sleep(10);
emit(rows);
