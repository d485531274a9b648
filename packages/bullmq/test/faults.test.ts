import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bullmqRuntime } from '@plugboard/bullmq';
import { createHost, type Host, type TaskRecord } from '@plugboard/core';
import { sqliteStore } from '@plugboard/sqlite';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { hasRedis } from '../../../test/requirements.js';
import { NapPlugin } from './fixtures/plugins.js';
import { freePort, startRedisServer } from './redis-server.js';
import { startWorkerProcess, type WorkerProcess } from './worker-process.js';

const redisHere = hasRedis('packages/bullmq/test/faults.test.ts');

// Faults under load on the BullMQ runtime, with real worker processes and a real redis-server on loopback: Redis
// crashes and comes back mid-batch, a worker is killed mid-batch. Every task reaches a final state and nothing is
// lost from the API host's (SQLite) store.

const root = fileURLToPath(new URL('../../../', import.meta.url));
const dir = `${root}.tmp/tests/bullmq-faults-${randomUUID()}`;
mkdirSync(dir, { recursive: true });

const workers: WorkerProcess[] = [];
const hosts: Host[] = [];
const redises: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.kill('SIGTERM')));
  await Promise.all(hosts.splice(0).map((h) => h.stop({ timeoutMs: 2000 })));
  await Promise.all(redises.splice(0).map((r) => r.stop()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// redis-server stops when this shell's stdin closes: when the test stops it, or when the test process dies.
const WATCHED = 'exec 3<&0; "$0" "$@" & r=$!; { read -r _ <&3; kill "$r"; } 2>/dev/null & wait "$r"';

/**
 * A redis-server that keeps its data in an append-only file synced on every write (what a deployment that must
 * not lose queued tasks runs), so it can be killed and started again on the same port and folder.
 */
class PersistentRedis {
  readonly port: number;
  readonly #dir: string;
  #child: ChildProcess | undefined;
  #pid: number | undefined;

  constructor(port: number, folder: string) {
    this.port = port;
    this.#dir = folder;
    mkdirSync(folder, { recursive: true });
  }

  get connection() {
    return { host: '127.0.0.1', port: this.port };
  }

  async start(): Promise<void> {
    const child = spawn(
      '/bin/sh',
      [
        '-c',
        WATCHED,
        '/usr/bin/redis-server',
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.#dir,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
      ],
      { stdio: ['pipe', 'ignore', 'ignore'] },
    );
    this.#child = child;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const client = new Redis({
        ...this.connection,
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      client.on('error', () => {});
      try {
        await client.connect();
        // `loading` is 1 while the append-only file is read back.
        const info = await client.info('persistence');
        if (/loading:0/.test(info)) {
          this.#pid = Number(/process_id:(\d+)/.exec(await client.info('server'))![1]);
          client.disconnect();
          return;
        }
      } catch {
        // Not listening yet.
      }
      client.disconnect();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`redis-server did not start on port ${this.port}`);
  }

  /** Kills the server as a crash would: no shutdown, no final save (every write is already on disk). */
  async crash(): Promise<void> {
    const child = this.#child;
    if (this.#pid) process.kill(this.#pid, 'SIGKILL');
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise((resolve) => child.once('exit', resolve));
    }
    this.#child = undefined;
    this.#pid = undefined;
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.stdin?.end();
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise((resolve) => child.once('exit', resolve));
    }
    this.#child = undefined;
  }
}

async function apiHost(connection: { host: string; port: number }, queue: string): Promise<Host> {
  const host = createHost({
    env: false,
    argv: [],
    plugins: { classes: [NapPlugin] },
    store: sqliteStore({ path: `${dir}/${queue}.db` }),
    runtime: bullmqRuntime({ connection, queue }),
  });
  host.events.on('error', () => {
    // Redis being away is reported here while ioredis reconnects; the outcome is checked below.
  });
  hosts.push(host);
  await host.start();
  return host;
}

async function worker(connection: { host: string; port: number }, queue: string, options = {}) {
  const started = await startWorkerProcess({ connection, queue, concurrency: 4, ...options });
  workers.push(started);
  return started;
}

/** Counts `task:finished` events per task, from now on. */
function finishes(host: Host) {
  const seen = new Map<string, TaskRecord[]>();
  host.events.on('task:finished', (record: TaskRecord) => {
    seen.set(record.id, [...(seen.get(record.id) ?? []), record]);
  });
  return {
    seen,
    async all(ids: readonly string[], ms: number): Promise<void> {
      const deadline = Date.now() + ms;
      while (!ids.every((id) => seen.has(id))) {
        if (Date.now() > deadline) {
          const missing = ids.filter((id) => !seen.has(id));
          throw new Error(`${missing.length} of ${ids.length} tasks did not finish within ${ms} ms`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
}

/** Every task in the store, final, once; returns the records. */
async function expectAllFinalInStore(host: Host, ids: readonly string[]): Promise<TaskRecord[]> {
  const records: TaskRecord[] = [];
  for (const id of ids) {
    const record = await host.store.getTask(id);
    expect(record, id).toBeDefined();
    records.push(record!);
  }
  expect(records.filter((r) => r.state === 'queued' || r.state === 'running')).toEqual([]);
  expect((await host.tasks.list({ state: ['queued', 'running'], limit: 500 })).items).toEqual([]);
  return records;
}

describe.skipIf(!redisHere)('Redis crashes mid-batch', () => {
  it('work resumes once it is back: every task of the batch reaches a final state, none twice, nothing lost', async () => {
    const redis = new PersistentRedis(await freePort(), `${dir}/redis-${randomUUID()}`);
    await redis.start();
    redises.push(redis);
    const queue = `crash-${randomUUID()}`;
    const host = await apiHost(redis.connection, queue);
    await worker(redis.connection, queue);
    await worker(redis.connection, queue);
    const finished = finishes(host);

    const ids: string[] = [];
    for (let i = 0; i < 200; i++)
      ids.push((await host.execute('nap', { ms: 20 + (i % 5) * 40 })).tasks[0]!.id);
    await finished.all(ids.slice(0, 40), 60_000);
    await redis.crash();
    expect(finished.seen.size).toBeLessThan(ids.length);
    // Tasks queued while Redis is away wait for it; they are not refused.
    const late = Array.from({ length: 10 }, () => host.execute('nap', { ms: 10 }));
    let lateQueued = false;
    Promise.all(late).then(
      () => {
        lateQueued = true;
      },
      () => {},
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(lateQueued).toBe(false);
    await redis.start();
    for (const result of await Promise.all(late)) ids.push(result.tasks[0]!.id);

    await finished.all(ids, 120_000);
    const records = await expectAllFinalInStore(host, ids);
    expect(records.filter((r) => r.state !== 'succeeded')).toEqual([]);
    for (const [id, events] of finished.seen) expect(events.length, `task:finished of ${id}`).toBe(1);
    for (const id of ids.filter((_, i) => i % 10 === 0)) {
      const logs = await host.tasks.logs(id);
      expect(new Set(logs.map((l) => l.seq)).size).toBe(logs.length);
    }
  }, 300_000);
});

describe.skipIf(!redisHere)('a worker killed under load', () => {
  it('the other workers finish the batch: retry-safe tasks as a new attempt, the others interrupted, none left behind', async () => {
    const redis = await startRedisServer();
    redises.push(redis);
    const queue = `kill-load-${randomUUID()}`;
    const host = await apiHost(redis.connection, queue);
    const timings = { lockDurationMs: 1000, stalledIntervalMs: 500 };
    const doomed = await worker(redis.connection, queue, timings);
    await worker(redis.connection, queue, timings);
    const finished = finishes(host);

    const ids: string[] = [];
    const fragile = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const retrySafe = i % 10 !== 0;
      const id = (await host.execute('nap', { ms: 50 + (i % 4) * 50, retrySafe })).tasks[0]!.id;
      ids.push(id);
      if (!retrySafe) fragile.add(id);
    }
    await finished.all(ids.slice(0, 30), 60_000);
    await doomed.kill('SIGKILL');
    await worker(redis.connection, queue, timings);

    await finished.all(ids, 120_000);
    const records = await expectAllFinalInStore(host, ids);
    for (const record of records) {
      if (record.state === 'succeeded') continue;
      // Only a task that must not run twice and was running in the killed worker may end otherwise.
      expect(fragile.has(record.id), `${record.id} ended ${record.state}`).toBe(true);
      expect(record).toMatchObject({ state: 'interrupted', error: { code: 'PLUGBOARD_TASK_INTERRUPTED' } });
    }
    const again = records.filter((r) => r.attempt > 1);
    // The kill hit tasks in flight: they ran again or were recorded interrupted.
    expect(again.length + records.filter((r) => r.state === 'interrupted').length).toBeGreaterThan(0);
    for (const record of again) {
      expect(record.state).toBe('succeeded');
      expect((record.result as { attempt: number }).attempt).toBe(2);
    }
    for (const [id, events] of finished.seen) expect(events.length, `task:finished of ${id}`).toBe(1);
    console.log(
      `killed a worker under load: ${records.filter((r) => r.state === 'succeeded').length} succeeded ` +
        `(${again.length} on a second attempt), ${records.filter((r) => r.state === 'interrupted').length} interrupted`,
    );
  }, 300_000);
});
