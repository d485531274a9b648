import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TaskRecord } from '@plugboard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startServerProcess } from './server-process.ts';

const MISBEHAVING = fileURLToPath(new URL('./fixtures/misbehaving', import.meta.url));
let server: ServerProcess;

async function api(path: string, body?: unknown): Promise<{ status: number; body: any; ms: number }> {
  const t0 = performance.now();
  const response = await fetch(`${server.url}/plugboard${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      'x-media-user': 'alice',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null, ms: performance.now() - t0 };
}

async function execute(plugin: string): Promise<string> {
  const started = await api(`/plugins/${plugin}/execute`, { args: {} });
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  return started.body.tasks[0].id;
}

async function finished(id: string): Promise<TaskRecord> {
  for (let i = 0; i < 400; i++) {
    const { body } = await api(`/tasks/${id}`);
    if (!['queued', 'running'].includes(body.state)) return body as TaskRecord;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`task ${id} did not finish`);
}

beforeAll(async () => {
  server = await startServerProcess({
    MEDIA_SERVER_DATA: mkdtempSync(join(tmpdir(), 'media-server-misbehaving-')),
    MEDIA_SERVER_EXTRA_PLUGINS: MISBEHAVING,
  });
});

afterAll(async () => {
  await server?.stop();
});

describe('a plugin that spins or leaks', () => {
  it('costs only its own task: the pages keep answering and the other plugins keep working', async () => {
    const spin = await execute('spin-forever');
    const leak = await execute('leak-memory');
    // While both misbehave, the API answers as usual and another plugin's task succeeds.
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await api('/plugins'));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(1000);
    const report = await finished(await execute('storage-report'));
    expect(report.state).toBe('succeeded');
    expect(await finished(spin)).toMatchObject({
      state: 'timed-out',
      error: { code: 'PLUGBOARD_TASK_TIMED_OUT' },
    });
    expect(await finished(leak)).toMatchObject({
      state: 'failed',
      error: { code: 'PLUGBOARD_TASK_RESOURCE_LIMIT' },
    });
    expect((await api('/plugins')).status).toBe(200);
  });
});
