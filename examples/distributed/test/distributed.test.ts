import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TaskRecord } from '@plugboard/core';
import { afterEach, describe, expect, it } from 'vitest';

const example = fileURLToPath(new URL('..', import.meta.url));
let launcher: ChildProcess | undefined;

afterEach(async () => {
  if (launcher && launcher.exitCode === null) {
    const exited = new Promise((resolve) => launcher!.once('exit', resolve));
    launcher.kill('SIGTERM');
    const timer = setTimeout(() => launcher?.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
});

describe('the distributed example', () => {
  it('starts Redis, one API and two workers with one command, spreads tasks over both workers and stops cleanly', async () => {
    launcher = spawn(process.execPath, ['start.mjs'], {
      cwd: example,
      env: { ...process.env, PORT: '0', REDIS_PORT: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    launcher.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    const base = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the example did not start:\n${output}`)), 90_000);
      launcher!.stdout?.on('data', (chunk) => {
        output += chunk;
        const ready = (output.match(/worker \d+ ready/g) ?? []).length === 2;
        const api = output.match(/api listening on (http:\/\/127\.0\.0\.1:\d+)/);
        if (ready && api) {
          clearTimeout(timer);
          resolve(api[1]!);
        }
      });
    });

    const response = await fetch(`${base}/plugins/thumbnails/execute`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ images: ['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg', 'e.jpg', 'f.jpg'], ms: 600 }),
    });
    expect(response.status).toBe(202);
    const { tasks } = (await response.json()) as { tasks: TaskRecord[] };
    expect(tasks).toHaveLength(6);

    let records: TaskRecord[] = [];
    for (let i = 0; i < 300; i++) {
      records = await Promise.all(
        tasks.map(async (t) => (await (await fetch(`${base}/tasks/${t.id}`)).json()) as TaskRecord),
      );
      if (records.every((r) => r.state === 'succeeded')) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(records.map((r) => r.state)).toEqual(Array(6).fill('succeeded'));
    expect(new Set(records.map((r) => (r.result as { worker: number }).worker)).size).toBe(2);
    const logs = (await (await fetch(`${base}/tasks/${tasks[0]!.id}/logs`)).json()) as Array<{
      message: string;
    }>;
    expect(logs.map((l) => l.message)).toEqual(['made a thumbnail of a.jpg']);

    const exited = new Promise<number | null>((resolve) => launcher!.once('exit', resolve));
    launcher.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 180_000);
});
