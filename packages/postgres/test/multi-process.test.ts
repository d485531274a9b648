import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createHost, type Host, type HostEvents } from '@plugboard/core';
import { postgresStore } from '@plugboard/postgres';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startPostgresServer } from '../../../test/postgres-server.js';
import { BeatPlugin, ChattyPlugin, DoublePlugin } from './fixtures/plugins.js';

const server = await startPostgresServer();
afterAll(() => server.remove());

const hostProcess = fileURLToPath(new URL('./fixtures/host-process.mjs', import.meta.url));
let schemas = 0;
const hosts: Host[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop({ timeoutMs: 200 })));
});

/** Hosts on one schema, as API processes sharing one database are; each has its own store and connections. */
async function startHosts(count: number, options: { background?: boolean; schema?: string } = {}) {
  const schema = options.schema ?? `shared_${++schemas}`;
  const started: Host[] = [];
  for (let i = 0; i < count; i++) {
    const host = createHost({
      env: false,
      argv: [],
      store: postgresStore({ connectionString: server.url, schema, pollIntervalMs: 50 }),
      progressIntervalMs: 0,
      plugins: {
        classes: options.background ? [ChattyPlugin, DoublePlugin, BeatPlugin] : [ChattyPlugin, DoublePlugin],
      },
    });
    hosts.push(host);
    await host.start();
    started.push(host);
  }
  return { schema, hosts: started };
}

const user = { id: 'alice' };

function recordEvents(host: Host) {
  const seen: { name: keyof HostEvents; id: string }[] = [];
  for (const name of ['task:queued', 'task:started', 'task:log', 'task:finished'] as const) {
    host.events.on(name, (payload: { id: string }) => seen.push({ name, id: payload.id }));
  }
  return seen;
}

describe('hosts sharing one PostgreSQL schema', () => {
  it('see one history: a task run by one is read, listed and logged through the other', async () => {
    const {
      hosts: [a, b],
    } = await startHosts(2);
    const { tasks } = await a!.execute('double', { n: 21 }, { user });
    const id = tasks[0]!.id;
    const done = await b!.tasks.wait(id);
    expect(done).toMatchObject({ state: 'succeeded', result: { doubled: 42 } });
    expect((await b!.tasks.list({})).items.map((t) => t.id)).toEqual([id]);
    expect((await b!.tasks.logs(id)).map((l) => l.message)).toEqual(['doubling 21']);
  });

  it("deliver one host's task events to the other host's bus, in order", async () => {
    const {
      hosts: [a, b],
    } = await startHosts(2);
    const onA = recordEvents(a!);
    const onB = recordEvents(b!);
    const { tasks } = await a!.execute('double', { n: 1, ms: 50 }, { user });
    const id = tasks[0]!.id;
    await a!.tasks.wait(id);
    await expect.poll(() => onB.map((e) => e.name), { timeout: 5000 }).toEqual(onA.map((e) => e.name));
    expect(onB.every((e) => e.id === id)).toBe(true);
    expect(onA.map((e) => e.name)).toEqual(['task:queued', 'task:started', 'task:log', 'task:finished']);
    // Nothing comes back: A sees its own events once.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(onA).toHaveLength(4);
  });

  it('deliver events too long for one notification whole, read back from the store', async () => {
    const {
      hosts: [a, b],
    } = await startHosts(2);
    const label = 'x'.repeat(9000);
    const lines: string[] = [];
    const written: string[] = [];
    a!.events.on('task:log', (event) => written.push(event.entry.message));
    b!.events.on('task:log', (event) => lines.push(event.entry.message));
    const started: unknown[] = [];
    b!.events.on('task:started', (record) => started.push(record.input));
    const { tasks } = await a!.execute('chatty', { label, intervalMs: 20 }, { user });
    await expect.poll(() => lines.length, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
    expect(lines.slice(0, 2)).toEqual(written.slice(0, 2));
    expect(lines[0]!.length).toBeGreaterThan(7000);
    expect(started).toEqual([{ label, intervalMs: 20 }]);
    await a!.tasks.cancel(tasks[0]!.id);
  });

  it('cancel a task through the host that does not run it: the running host stops it', async () => {
    const {
      hosts: [a, b],
    } = await startHosts(2);
    const { tasks } = await a!.execute('chatty', { label: 'long', intervalMs: 10 }, { user });
    const id = tasks[0]!.id;
    await expect.poll(async () => (await b!.tasks.get(id))?.state, { timeout: 5000 }).toBe('running');
    const cancelled = await b!.tasks.cancel(id);
    expect(cancelled.state).toBe('cancelled');
    expect(await a!.tasks.get(id)).toMatchObject({ state: 'cancelled' });
    // Its log stops growing once it is cancelled.
    const lines = (await a!.tasks.logs(id)).length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await a!.tasks.logs(id)).length).toBe(lines);
  });

  it('fire a background schedule once per due time across the hosts, never once per host', async () => {
    const t0 = Date.now();
    const { schema, hosts: started } = await startHosts(3, { background: true });
    await new Promise((resolve) => setTimeout(resolve, 1700));
    await Promise.all(started.map((h) => h.stop({ timeoutMs: 500 })));
    const elapsed = Date.now() - t0;
    hosts.length = 0;
    const store = postgresStore({ connectionString: server.url, schema });
    await store.open();
    const schedule = (await store.getSchedule('beat'))!;
    const beats = (await store.listTasks({ plugin: 'beat', limit: 500 })).items;
    await store.close();
    // Delay 0.2 s, then every 0.3 s while the hosts ran: about 5 firings; three hosts each firing would make ~15.
    expect(schedule.runs).toBeGreaterThanOrEqual(3);
    expect(schedule.runs).toBeLessThanOrEqual(Math.floor((elapsed - 200) / 300) + 1);
    expect(beats).toHaveLength(schedule.runs);
    const created = beats.map((t) => t.createdAt).sort((x, y) => x - y);
    for (let i = 1; i < created.length; i++) expect(created[i]! - created[i - 1]!).toBeGreaterThan(150);
  });

  it('a starting host leaves the running tasks of a live host alone, and recovers those of one that died', async () => {
    const schema = `shared_${++schemas}`;
    const child = spawn(process.execPath, [hostProcess, server.url, schema], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`the host process exited (${code}):\n${stderr}`)));
    });
    const { id } = JSON.parse(line) as { id: string };

    const {
      hosts: [b],
    } = await startHosts(1, { schema });
    expect(b!.report?.recovery).toMatchObject({ interrupted: 0, requeued: 0, resumed: 0 });
    expect((await b!.tasks.get(id))?.state).toBe('running');

    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const {
      hosts: [c],
    } = await startHosts(1, { schema });
    const recovered = await c!.tasks.get(id);
    expect(recovered?.state).toBe('interrupted');
    expect(c!.report?.recovery).toMatchObject({ interrupted: 1 });
  });
});
