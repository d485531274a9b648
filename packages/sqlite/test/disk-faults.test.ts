import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  ActionPlugin,
  createHost,
  type Host,
  type PlugboardUser,
  Task,
  type TaskContext,
  type TaskRecord,
  Type,
} from '@plugboard/core';
import { plugboardRouter } from '@plugboard/express';
import { sqliteStore } from '@plugboard/sqlite';
import Database from 'better-sqlite3';
import express from 'express';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { mountTmpfs } from '../../../test/requirements.js';

// Storage faults under a running host on the SQLite store: the disk fills up, another connection holds the write
// lock, the file system is read-only at start. In each case the failing writes surface as
// PLUGBOARD_STORE_UNAVAILABLE, the host keeps answering reads, and once the fault clears the file is intact and
// the host writes again.

const root = fileURLToPath(new URL('../../../', import.meta.url));
const base = `${root}.tmp/tests/disk-faults-${randomUUID()}`;
mkdirSync(base, { recursive: true });

const mountPoint = `${base}/disk`;
const mounted = mountTmpfs(mountPoint, '8m', 'packages/sqlite/test/disk-faults.test.ts');

const hosts: Host[] = [];
const servers: import('node:http').Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await Promise.all(hosts.splice(0).map((h) => h.stop({ timeoutMs: 2000 })));
});
afterAll(() => {
  if (mounted) {
    try {
      execFileSync('mount', ['-o', 'remount,rw', mountPoint], { stdio: 'pipe' });
    } catch {
      // Already read-write.
    }
    execFileSync('umount', [mountPoint], { stdio: 'pipe' });
  }
  rmSync(base, { recursive: true, force: true });
});

class NoteTask extends Task<{ text: string; ms: number }, { noted: string }> {
  async run(ctx: TaskContext) {
    ctx.log.info(`noting ${this.input.text}`);
    ctx.progress(50, 'half way');
    if (this.input.ms > 0) {
      await new Promise((resolve) => setTimeout(resolve, this.input.ms));
    }
    ctx.log.info(`noted ${this.input.text}`);
    return { noted: this.input.text };
  }
}

class NotePlugin extends ActionPlugin({
  id: 'note',
  name: 'Note',
  args: Type.Object({ text: Type.String(), ms: Type.Integer({ minimum: 0, default: 0 }) }),
  tasks: [NoteTask],
}) {
  createTasks(args: { text: string; ms: number }) {
    return new NoteTask(args);
  }
}

const ADMIN: PlugboardUser = { id: 'admin', name: 'Admin', permissions: [] };

/** A fetch response whose JSON the tests read without declaring every shape. */
interface JsonResponse extends Response {
  json(): Promise<any>;
}

interface Served {
  readonly host: Host;
  readonly errors: Error[];
  request(path: string, init?: RequestInit): Promise<JsonResponse>;
  execute(text: string, ms?: number): Promise<JsonResponse>;
}

async function serve(path: string, busyTimeoutMs?: number): Promise<Served> {
  const host = createHost({
    env: false,
    argv: [],
    plugins: { classes: [NotePlugin] },
    store: sqliteStore({ path, busyTimeoutMs }),
  });
  const errors: Error[] = [];
  host.events.on('error', (error) => errors.push(error));
  await host.start();
  hosts.push(host);
  const app = express().use(
    '/plugboard',
    plugboardRouter(host, { getUser: () => ADMIN, isAdmin: () => true, onError: () => {} }),
  );
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  servers.push(server);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/plugboard`;
  const request = (p: string, init?: RequestInit) => fetch(`${url}${p}`, init) as Promise<JsonResponse>;
  return {
    host,
    errors,
    request,
    execute: (text, ms = 0) =>
      request('/plugins/note/execute', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ args: { text, ms } }),
      }),
  };
}

/** Runs `count` tasks to the end and returns their records and logs as the store has them. */
async function history(served: Served, count: number, prefix: string) {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const response = await served.execute(`${prefix} ${i}`);
    expect(response.status).toBe(202);
    ids.push((await response.json()).tasks[0].id);
  }
  for (const id of ids) await served.host.tasks.wait(id);
  return snapshot(served, ids);
}

async function snapshot(served: Served, ids: readonly string[]) {
  const out = new Map<string, { record: TaskRecord; logs: string[] }>();
  for (const id of ids) {
    const record = await (await served.request(`/tasks/${id}`)).json();
    const logs = (await (await served.request(`/tasks/${id}/logs`)).json()).items.map(
      (l: { message: string }) => l.message,
    );
    out.set(id, { record, logs });
  }
  return out;
}

/** Reads the file with a connection of its own: integrity and every task row. */
function inspect(path: string) {
  const db = new Database(path, { readonly: true });
  try {
    return {
      integrity: db.pragma('integrity_check', { simple: true }),
      ids: (db.prepare('SELECT id FROM tasks ORDER BY id').all() as { id: string }[]).map((r) => r.id),
    };
  } finally {
    db.close();
  }
}

async function problemOf(response: Response) {
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return (await response.json()) as { status: number; code: string; detail: string };
}

describe.skipIf(!mounted)('the disk the SQLite file lives on', () => {
  it('fills up: writes fail with PLUGBOARD_STORE_UNAVAILABLE, reads go on, and nothing is lost or corrupt once space is freed', async () => {
    const path = `${mountPoint}/full.db`;
    const served = await serve(path);
    const before = await history(served, 20, 'before');
    // A task that is running when the disk fills up, and must still be recorded once there is room again.
    const running = (await (await served.execute('during', 1500)).json()).tasks[0].id as string;
    await new Promise((resolve) => setTimeout(resolve, 100));

    // Fold the WAL into the database and empty it, so the next write needs new space on the disk; then fill it.
    const side = new Database(path);
    side.pragma('wal_checkpoint(TRUNCATE)');
    side.close();
    const filler = `${mountPoint}/filler`;
    const fd = openSync(filler, 'w');
    const chunk = Buffer.alloc(64 * 1024, 1);
    try {
      for (;;) writeSync(fd, chunk);
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      closeSync(fd);
    }

    const refused = await served.execute('while full');
    const problem = await problemOf(refused);
    expect(problem).toMatchObject({ status: 503, code: 'PLUGBOARD_STORE_UNAVAILABLE' });
    expect(problem.detail).toMatch(/could not be written: .*(full|disk)/i);

    // Reads keep working: the list, each record and its log, as they were.
    const listed = await served.request('/tasks?limit=500');
    expect(listed.status).toBe(200);
    const { items } = await listed.json();
    for (const id of before.keys()) expect(items.map((t: TaskRecord) => t.id)).toContain(id);
    expect(await snapshot(served, [...before.keys()])).toEqual(before);
    // The running task ends while the disk is full; its end cannot be written yet.
    const ended = await served.host.tasks.wait(running);
    expect(ended.state).toBe('succeeded');

    // The fault clears.
    unlinkSync(filler);
    const after = await served.execute('after');
    expect(after.status).toBe(202);
    const afterId = (await after.json()).tasks[0].id as string;
    expect((await served.host.tasks.wait(afterId)).state).toBe('succeeded');
    // The task that ended during the fault is recorded as it ended.
    await expect
      .poll(async () => (await served.host.store.getTask(running))?.state, { timeout: 10_000 })
      .toBe('succeeded');
    expect(await snapshot(served, [...before.keys()])).toEqual(before);
    expect(served.errors.map((e) => (e as { code?: string }).code)).toContain('PLUGBOARD_STORE_UNAVAILABLE');

    await served.host.stop();
    const file = inspect(path);
    expect(file.integrity).toBe('ok');
    expect(file.ids).toEqual([...before.keys(), running, afterId].sort());
  });

  it('is read-only when the host starts: a coded error, and the file is untouched', async () => {
    const path = `${mountPoint}/readonly.db`;
    const served = await serve(path);
    const before = await history(served, 5, 'kept');
    await served.host.stop();
    hosts.splice(hosts.indexOf(served.host), 1);
    execFileSync('mount', ['-o', 'remount,ro', mountPoint], { stdio: 'pipe' });
    try {
      const host = createHost({
        env: false,
        argv: [],
        plugins: { classes: [NotePlugin] },
        store: sqliteStore({ path }),
      });
      const error = await host.start().then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toMatchObject({ code: 'PLUGBOARD_STORE_UNAVAILABLE' });
      expect((error as Error).message).toContain(path);
      expect(host.state).toBe('created');
    } finally {
      execFileSync('mount', ['-o', 'remount,rw', mountPoint], { stdio: 'pipe' });
    }
    const again = await serve(path);
    expect(await snapshot(again, [...before.keys()])).toEqual(before);
    expect((await again.execute('writable again')).status).toBe(202);
    await again.host.stop();
    expect(inspect(path).integrity).toBe('ok');
  });
});

describe('another connection holding the write lock', () => {
  it('makes writes fail with PLUGBOARD_STORE_UNAVAILABLE after busyTimeoutMs while reads go on; writes resume when it lets go', async () => {
    const path = `${base}/locked.db`;
    const served = await serve(path, 200);
    const before = await history(served, 10, 'before');
    const running = (await (await served.execute('during', 400)).json()).tasks[0].id as string;
    await expect.poll(async () => (await served.host.tasks.get(running))?.state).toBe('running');
    const admin = new Database(path);
    admin.exec('BEGIN IMMEDIATE');
    try {
      const started = Date.now();
      const problem = await problemOf(await served.execute('while locked'));
      expect(problem).toMatchObject({ status: 503, code: 'PLUGBOARD_STORE_UNAVAILABLE' });
      expect(problem.detail).toMatch(/locked|busy/i);
      expect(Date.now() - started).toBeGreaterThanOrEqual(150);
      expect((await served.request('/tasks?limit=500')).status).toBe(200);
      expect(await snapshot(served, [...before.keys()])).toEqual(before);
      // The running task ends while the lock is held: the store cannot record its end yet, but the host
      // answers with the end it saw, to waits that start late, reads and cancels alike.
      await expect.poll(() => served.errors.length, { timeout: 10_000 }).toBeGreaterThan(0);
      expect((await served.host.store.getTask(running))?.state).toBe('running');
      expect((await served.host.tasks.wait(running)).state).toBe('succeeded');
      expect((await served.host.tasks.get(running))?.state).toBe('succeeded');
      expect((await (await served.request(`/tasks/${running}`)).json()).state).toBe('succeeded');
      const items = (await (await served.request('/tasks?state=running,queued')).json()).items;
      expect(items.map((t: TaskRecord) => t.id)).not.toContain(running);
      const cancel = await problemOf(await served.request(`/tasks/${running}/cancel`, { method: 'POST' }));
      expect(cancel).toMatchObject({ status: 409, code: 'PLUGBOARD_TASK_FINISHED' });
    } finally {
      admin.exec('ROLLBACK');
      admin.close();
    }
    const after = await served.execute('after');
    expect(after.status).toBe(202);
    expect((await served.host.tasks.wait((await after.json()).tasks[0].id)).state).toBe('succeeded');
    // Once the lock is gone, the end of the task that finished meanwhile is written too.
    await expect
      .poll(async () => (await served.host.store.getTask(running))?.state, { timeout: 10_000 })
      .toBe('succeeded');
    expect(served.errors.map((e) => (e as { code?: string }).code)).toContain('PLUGBOARD_STORE_UNAVAILABLE');
    await served.host.stop();
    expect(inspect(path).integrity).toBe('ok');
  });
});
