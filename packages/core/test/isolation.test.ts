import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createHost, type Host, type HostOptions, memoryStore } from '@plugboard/core';
import { afterEach, describe, expect, it } from 'vitest';

const pluginsDir = fileURLToPath(new URL('./fixtures/isolated/plugins', import.meta.url));
const hosts: Host[] = [];

afterEach(async () => {
  for (const host of hosts.splice(0)) await host.stop({ timeoutMs: 100 });
});

async function started(options: Partial<HostOptions> = {}): Promise<Host> {
  const host = createHost({
    env: false,
    argv: [],
    plugins: { dirs: [pluginsDir] },
    properties: { quick: { token: 's3cret-token' } },
    isolation: { mode: 'thread', graceMs: 200, memoryLimitMb: 64 },
    ...options,
  });
  hosts.push(host);
  await host.start();
  return host;
}

async function until(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function run(host: Host, id: string, args: Record<string, unknown> = {}, options = {}) {
  const { tasks } = await host.execute(id, args, options);
  return host.tasks.wait(tasks[0]!.id);
}

describe('isolated tasks in worker threads', () => {
  it('runs a task in a worker thread with its user, properties, log, progress and status, secrets redacted', async () => {
    const host = await started({ progressIntervalMs: 0 });
    const progress: Array<[number, string | null]> = [];
    host.events.on('task:progress', (e) => progress.push([e.progress, e.statusText]));
    const record = await run(host, 'quick', { text: 'hi' }, { user: { id: 'ann' } });
    expect(record).toMatchObject({
      state: 'succeeded',
      result: { text: 'hi', isMainThread: false, pid: process.pid, user: 'ann' },
    });
    const logs = await host.tasks.logs(record.id);
    expect(logs.map((l) => l.message)).toEqual(['quick hi with [secret]']);
    expect(progress).toContainEqual([50, 'working']);
  });

  it('keeps a synchronously spinning task off the host: timed-out on time, the loop free, others served', async () => {
    const host = await started();
    await run(host, 'quick', { text: 'warm-up' });
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const spinning = await host.execute('spin', {}, { timeoutMs: 500 });
    const other = await run(host, 'quick', { text: 'meanwhile', ms: 50 });
    const record = await host.tasks.wait(spinning.tasks[0]!.id);
    delay.disable();
    expect(other.state).toBe('succeeded');
    expect(record).toMatchObject({ state: 'timed-out', error: { code: 'PLUGBOARD_TASK_TIMED_OUT' } });
    expect(record.finishedAt! - record.startedAt!).toBeLessThan(1000);
    expect(delay.percentile(99) / 1e6).toBeLessThan(50);
    expect((await run(host, 'quick', { text: 'after' })).state).toBe('succeeded');
  });

  it('cancels a spinning task on time and ends its worker', async () => {
    const host = await started();
    const { tasks } = await host.execute('spin', {});
    await new Promise((resolve) => setTimeout(resolve, 300));
    const begun = Date.now();
    const record = await host.tasks.cancel(tasks[0]!.id);
    expect(Date.now() - begun).toBeLessThan(1000);
    expect(record).toMatchObject({ state: 'cancelled', error: { code: 'PLUGBOARD_TASK_CANCELLED' } });
    expect((await run(host, 'quick', { text: 'after' })).state).toBe('succeeded');
  });

  it('hands the task the reason of its signal across the boundary', async () => {
    const host = await started();
    const file = join(scratch(), 'reason.txt');
    const { tasks } = await host.execute('listen', { file });
    await until(async () => (await host.tasks.logs(tasks[0]!.id)).length > 0);
    await host.tasks.cancel(tasks[0]!.id);
    await until(async () => existsSync(file));
    expect(readFileSync(file, 'utf8')).toBe('PLUGBOARD_TASK_CANCELLED');
  });

  it('fails a task that allocates without bound with PLUGBOARD_TASK_RESOURCE_LIMIT; the host goes on', async () => {
    const host = await started();
    const record = await run(host, 'leak');
    expect(record).toMatchObject({ state: 'failed', error: { code: 'PLUGBOARD_TASK_RESOURCE_LIMIT' } });
    expect((await run(host, 'quick', { text: 'after' })).state).toBe('succeeded');
  });

  it('fails only its task on process.exit(3), a throw from a timer and an unhandled rejection', async () => {
    const host = await started();
    expect(await run(host, 'exit')).toMatchObject({
      state: 'failed',
      error: { code: 'PLUGBOARD_TASK_WORKER_EXITED', message: expect.stringContaining('exit code 3') },
    });
    expect(await run(host, 'timer-throw')).toMatchObject({
      state: 'failed',
      error: {
        code: 'PLUGBOARD_TASK_UNCAUGHT_EXCEPTION',
        message: expect.stringContaining('thrown from a timer'),
      },
    });
    expect(await run(host, 'reject')).toMatchObject({
      state: 'failed',
      error: {
        code: 'PLUGBOARD_TASK_UNHANDLED_REJECTION',
        message: expect.stringContaining('nobody handles'),
      },
    });
    expect((await run(host, 'quick', { text: 'after' })).state).toBe('succeeded');
  });

  it("reports each plugin's mode; a plugin may ask to run in-process", async () => {
    const host = await started();
    const report = host.report!;
    const modes = Object.fromEntries(report.plugins.map((p) => [p.id, p.isolation?.mode]));
    expect(modes).toMatchObject({ quick: 'thread', spin: 'thread', 'in-process': 'none' });
    expect((await run(host, 'in-process')).result).toMatchObject({ isMainThread: true });
    expect(host.plugins.get('read-file')?.isolation?.declared.read).toEqual([join(process.cwd(), 'allowed')]);
  });

  it('runs a class passed directly in-process unless the host names its module, and says so', async () => {
    const { QuickPlugin } = await import('./fixtures/isolated/plugins/hostile.js');
    const module = join(pluginsDir, 'hostile.ts');
    const plain = await started({ plugins: { classes: [QuickPlugin] } });
    expect(plain.plugins.get('quick')?.isolation).toMatchObject({
      mode: 'none',
      note: expect.stringContaining('isolation.modules.quick'),
    });
    expect((await run(plain, 'quick')).result).toMatchObject({ isMainThread: true });
    const named = await started({
      plugins: { classes: [QuickPlugin] },
      isolation: { mode: 'thread', modules: { quick: module } },
    });
    expect(named.plugins.get('quick')?.isolation).toMatchObject({ mode: 'thread', note: null });
    expect((await run(named, 'quick')).result).toMatchObject({ isMainThread: false });
    const strict = await started({ plugins: { classes: [QuickPlugin] }, isolation: { minimum: 'thread' } });
    expect(await run(strict, 'quick')).toMatchObject({
      state: 'failed',
      error: { code: 'PLUGBOARD_ISOLATION_UNAVAILABLE' },
    });
  });

  it('starts workers from the TypeScript sources through jiti when the build is not current', async () => {
    process.env.PLUGBOARD_WORKER_FROM_SOURCE = '1';
    try {
      const host = await started();
      expect((await run(host, 'quick', { text: 'from source' })).result).toMatchObject({
        text: 'from source',
        isMainThread: false,
      });
    } finally {
      delete process.env.PLUGBOARD_WORKER_FROM_SOURCE;
    }
  });

  it('keeps nothing of a finished task on the worker that ran it (a worker runs thousands)', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const host = await started({ store: memoryStore({ maxFinishedTasks: 2 }), concurrency: 1 });
    await run(host, 'quick', { text: 'warm-up' });
    let first: WeakRef<object> | undefined;
    host.events.once('task:finished', (record) => {
      first = new WeakRef(record);
    });
    await run(host, 'quick', { text: 'first' });
    // The store keeps two finished tasks and the host the last 256 ends: these push the first out of both, so
    // only the runtime or the worker's bookkeeping could still hold it.
    for (let i = 0; i < 300; i++) await run(host, 'quick', { text: `next ${i}` });
    expect(first).toBeDefined();
    await until(async () => {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
      return first!.deref() === undefined;
    }, 3000);
  });

  it('ends every worker when the host stops, recording a spinning task interrupted', async () => {
    const host = await started();
    const ends = new Map<string, string>();
    host.events.on('task:finished', (record) => ends.set(record.id, record.state));
    const spin = await host.execute('spin', {});
    await until(async () => (await host.tasks.logs(spin.tasks[0]!.id)).length > 0);
    await run(host, 'quick');
    const begun = Date.now();
    await host.stop({ timeoutMs: 100 });
    expect(Date.now() - begun).toBeLessThan(2000);
    expect(ends.get(spin.tasks[0]!.id)).toBe('interrupted');
  });
});

describe('the truthful record of an in-process task', () => {
  it('records a task whose synchronous work ran past its timeout as timed-out, not succeeded', async () => {
    const host = await started();
    const record = await run(host, 'block', { ms: 400 }, { timeoutMs: 100 });
    expect(record).toMatchObject({
      state: 'timed-out',
      result: null,
      error: { code: 'PLUGBOARD_TASK_TIMED_OUT', message: 'The task ran longer than its timeout of 100 ms.' },
    });
  });
});

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'plugboard-iso-'));
  writeFileSync(join(dir, 'outside.txt'), 'outside');
  return dir;
}
