import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ScheduleRecord, TaskRecord } from '@plugboard/core';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { startPostgresServer } from '../../../test/postgres-server.js';

const example = fileURLToPath(new URL('..', import.meta.url));
let launcher: ChildProcess | undefined;

afterEach(async () => {
  if (launcher && launcher.exitCode === null && launcher.signalCode === null) {
    const exited = new Promise((resolve) => launcher!.once('exit', resolve));
    launcher.kill('SIGTERM');
    const timer = setTimeout(() => launcher?.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Reads the server-sent event names of a stream until `signal` aborts. */
async function eventNames(url: string, signal: AbortSignal, names: string[]): Promise<void> {
  const response = await fetch(url, { signal });
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) if (line.startsWith('event: ')) names.push(line.slice(7));
    }
  } catch (error) {
    if (!signal.aborted) throw error;
  }
}

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  return (await (await fetch(url, init)).json()) as T;
}

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await read();
  while (!ok(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = await read();
  }
  return value;
}

describe('the distributed example', () => {
  it('starts Redis, an API with the monitor page and two workers with one command, spreads tasks over both workers, runs the schedule, and stops cleanly', async () => {
    launcher = spawn(process.execPath, ['start.mjs'], {
      cwd: example,
      env: { ...process.env, PORT: '0', REDIS_PORT: '' },
      // Over IPC, the example stops itself if this test process dies first.
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let output = '';
    launcher.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    const base = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the example did not start:\n${output}`)), 90_000);
      launcher!.once('exit', (code) => reject(new Error(`the example exited with ${code}:\n${output}`)));
      launcher!.stdout?.on('data', (chunk) => {
        output += chunk;
        const ready = (output.match(/worker \d+ ready/g) ?? []).length === 2;
        const api = output.match(/api listening on (http:\/\/127\.0\.0\.1:\d+\/)/);
        if (ready && api) {
          clearTimeout(timer);
          resolve(api[1]!);
        }
      });
    });
    expect(output).toContain('[api] plugin thumbnails: operational');
    expect(output).toContain('[api] plugin cache-sweep: operational');

    const page = await fetch(base);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const streaming = new AbortController();
    const events: string[] = [];
    const reading = eventNames(`${base}events`, streaming.signal, events);

    const response = await fetch(`${base}plugins/thumbnails/execute`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // Eight 600 ms tasks, at most two at a time per worker: both workers get some.
      body: JSON.stringify({
        args: { images: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((name) => `${name}.jpg`), ms: 600 },
      }),
    });
    expect(response.status).toBe(202);
    const { tasks } = (await response.json()) as { tasks: TaskRecord[] };
    expect(tasks).toHaveLength(8);

    const records = await until(
      () => Promise.all(tasks.map((t) => json<TaskRecord>(`${base}tasks/${t.id}`))),
      (all) => all.every((r) => r.state === 'succeeded'),
      30_000,
    );
    expect(
      records.map((r) => r.state),
      output,
    ).toEqual(Array(8).fill('succeeded'));
    const workerPids = new Set(records.map((r) => (r.result as { worker: number }).worker));
    expect(workerPids.size, output).toBe(2);
    const logs = await json<{ items: Array<{ message: string }> }>(`${base}tasks/${tasks[0]!.id}/logs`);
    expect(logs.items.map((l) => l.message)).toEqual(['made a thumbnail of a.jpg']);

    // The background plugin's schedule fires two seconds after start, and a worker runs its task.
    const sweeps = await until(
      () => json<{ items: TaskRecord[] }>(`${base}tasks?plugin=cache-sweep`),
      (page) => page.items.some((t) => t.state === 'succeeded'),
      20_000,
    );
    expect(sweeps.items[0]).toMatchObject({ state: 'succeeded', scheduleId: 'cache-sweep' });
    const { items: schedules } = await json<{ items: ScheduleRecord[] }>(`${base}schedules`);
    expect(schedules).toMatchObject([{ id: 'cache-sweep', repeatSeconds: 60, runs: 1 }]);

    streaming.abort();
    await reading;
    for (const name of ['task:queued', 'task:started', 'task:progress', 'task:log', 'task:finished']) {
      expect(events).toContain(name);
    }

    const exited = new Promise<number | null>((resolve) => launcher!.once('exit', resolve));
    launcher.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const pid of workerPids) expect(alive(pid)).toBe(false);
  }, 120_000);

  it('keeps the task history in PostgreSQL with one option, DATABASE_URL', async () => {
    const database = await startPostgresServer();
    try {
      launcher = spawn(process.execPath, ['start.mjs'], {
        cwd: example,
        env: { ...process.env, PORT: '0', REDIS_PORT: '', DATABASE_URL: database.url },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      });
      let output = '';
      launcher.stderr?.on('data', (chunk) => {
        output += chunk;
      });
      const base = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the example did not start:\n${output}`)), 90_000);
        launcher!.once('exit', (code) => reject(new Error(`the example exited with ${code}:\n${output}`)));
        launcher!.stdout?.on('data', (chunk) => {
          output += chunk;
          const api = output.match(/api listening on (http:\/\/127\.0\.0\.1:\d+\/)/);
          if ((output.match(/worker \d+ ready/g) ?? []).length === 2 && api) {
            clearTimeout(timer);
            resolve(api[1]!);
          }
        });
      });
      expect(output).toContain('[api] api store: postgres');
      const response = await fetch(`${base}plugins/thumbnails/execute`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ args: { images: ['a.jpg', 'b.jpg'], ms: 50 } }),
      });
      const { tasks } = (await response.json()) as { tasks: TaskRecord[] };
      const records = await until(
        () => Promise.all(tasks.map((t) => json<TaskRecord>(`${base}tasks/${t.id}`))),
        (all) => all.every((r) => r.state === 'succeeded'),
        30_000,
      );
      expect(
        records.map((r) => r.state),
        output,
      ).toEqual(['succeeded', 'succeeded']);
      const client = new pg.Client(database.url);
      await client.connect();
      try {
        const { rows } = await client.query(
          "SELECT id, state FROM plugboard.tasks WHERE plugin_id = 'thumbnails' ORDER BY id",
        );
        expect(rows).toEqual(
          tasks.map((t) => ({ id: t.id, state: 'succeeded' })).sort((a, b) => (a.id < b.id ? -1 : 1)),
        );
      } finally {
        await client.end();
      }
      const exited = new Promise<number | null>((resolve) => launcher!.once('exit', resolve));
      launcher.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      await database.remove();
    }
  }, 120_000);
});
