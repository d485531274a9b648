import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHost, type Host, type HostOptions } from '@plugboard/core';
import { afterEach, describe, expect, it } from 'vitest';

const pluginsDir = fileURLToPath(new URL('./fixtures/isolated/plugins', import.meta.url));
const hosts: Host[] = [];

afterEach(async () => {
  for (const host of hosts.splice(0)) await host.stop({ timeoutMs: 100 });
});

/** A host folder with `allowed/inside.txt` (which plugin `read-file` declares) and `outside.txt` (which it does not). */
function hostFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'plugboard-process-'));
  mkdirSync(join(dir, 'allowed'));
  writeFileSync(join(dir, 'allowed', 'inside.txt'), 'inside');
  writeFileSync(join(dir, 'outside.txt'), 'outside');
  return dir;
}

async function started(cwd: string, options: Partial<HostOptions> = {}): Promise<Host> {
  const host = createHost({
    env: false,
    argv: [],
    cwd,
    plugins: { dirs: [pluginsDir] },
    isolation: { mode: 'process', graceMs: 200, memoryLimitMb: 64 },
    ...options,
  });
  hosts.push(host);
  await host.start();
  return host;
}

async function run(host: Host, id: string, args: Record<string, unknown> = {}, options = {}) {
  const { tasks } = await host.execute(id, args, options);
  return host.tasks.wait(tasks[0]!.id);
}

describe('isolated tasks in child processes', () => {
  it('runs a task in a child process under the permission model', async () => {
    const host = await started(hostFolder());
    const record = await run(host, 'quick', { text: 'hi' });
    expect(record.state).toBe('succeeded');
    expect((record.result as { pid: number }).pid).not.toBe(process.pid);
  });

  it('lets a task read what its plugin declared and refuses the rest with the access error', async () => {
    const cwd = hostFolder();
    const host = await started(cwd);
    expect(await run(host, 'read-file', { path: join(cwd, 'allowed', 'inside.txt') })).toMatchObject({
      state: 'succeeded',
      result: 'inside',
    });
    const refused = await run(host, 'read-file', { path: join(cwd, 'outside.txt') });
    expect(refused).toMatchObject({
      state: 'failed',
      error: { code: 'PLUGBOARD_TASK_ACCESS_DENIED', message: expect.stringContaining('outside.txt') },
    });
    const plugin = host.plugins.get('read-file')!;
    expect(plugin.isolation).toMatchObject({
      mode: 'process',
      declared: { read: [join(cwd, 'allowed')], write: [], childProcess: false, workers: false },
    });
  });

  it('narrows what a plugin declares to what the host allows', async () => {
    const cwd = hostFolder();
    const host = await started(cwd, {
      isolation: { mode: 'process', graceMs: 200, allow: { read: [join(cwd, 'elsewhere')] } },
    });
    expect(host.plugins.get('read-file')?.isolation?.granted.read).toEqual([]);
    const refused = await run(host, 'read-file', { path: join(cwd, 'allowed', 'inside.txt') });
    expect(refused.error?.code).toBe('PLUGBOARD_TASK_ACCESS_DENIED');
  });

  it('times out a spinning task, fails a leaking one and one that exits, and keeps serving', async () => {
    const host = await started(hostFolder());
    const spin = await run(host, 'spin', {}, { timeoutMs: 500 });
    expect(spin).toMatchObject({ state: 'timed-out' });
    expect(spin.finishedAt! - spin.startedAt!).toBeLessThan(1000);
    expect(await run(host, 'leak')).toMatchObject({
      state: 'failed',
      error: { code: 'PLUGBOARD_TASK_RESOURCE_LIMIT' },
    });
    expect(await run(host, 'exit')).toMatchObject({
      state: 'failed',
      error: { code: 'PLUGBOARD_TASK_WORKER_EXITED', message: expect.stringContaining('exit code 3') },
    });
    expect((await run(host, 'quick')).state).toBe('succeeded');
  });

  it('cancels a spinning task on time and serves the next one', async () => {
    const host = await started(hostFolder());
    const { tasks } = await host.execute('spin', {});
    for (let i = 0; i < 200 && (await host.tasks.get(tasks[0]!.id))?.state !== 'running'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const begun = Date.now();
    expect(await host.tasks.cancel(tasks[0]!.id)).toMatchObject({ state: 'cancelled' });
    expect(Date.now() - begun).toBeLessThan(1000);
    expect((await run(host, 'quick')).state).toBe('succeeded');
  });
});
