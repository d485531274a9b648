import { PassThrough } from 'node:stream';
import { BackgroundTaskPlugin, type Host, Task } from '@plugboard/core';
import { createTestHost } from '@plugboard/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/index.js';

class DigestTask extends Task<Record<string, never>> {
  run() {
    return null;
  }
}

class DigestPlugin extends BackgroundTaskPlugin({
  id: 'digest',
  name: 'Digest',
  cron: '0 30 7 * * 1-5',
  timeZone: 'Europe/Berlin',
  tasks: [DigestTask],
}) {
  createTasks() {
    return new DigestTask({});
  }
}

const hosts: Host[] = [];
afterEach(async () => {
  for (const host of hosts.splice(0)) await host.stop();
});

async function schedules(args: string[]): Promise<string> {
  const host = await createTestHost({ plugins: [DigestPlugin] });
  hosts.push(host);
  const out = new PassThrough();
  let text = '';
  out.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk;
  });
  const code = await runCli(host, args, {
    from: 'user',
    name: 'tool',
    stdout: out,
    stderr: new PassThrough(),
    env: {},
    handleSignals: false,
  });
  expect(code).toBe(0);
  return text;
}

describe('`schedules` with a cron schedule', () => {
  it('shows the expression with its time zone, and the next run', async () => {
    const text = await schedules(['schedules']);
    expect(text).toMatch(/^digest\s+\S.*\s+cron 0 30 7 \* \* 1-5 \(Europe\/Berlin\)\s+\S+ \S+\s+-\s+-\s+0$/m);
  });

  it('--json carries the expression, the time zone and the next run', async () => {
    const { schedules: list } = JSON.parse(await schedules(['schedules', '--json']));
    expect(list).toEqual([
      expect.objectContaining({
        id: 'digest',
        cron: '0 30 7 * * 1-5',
        timeZone: 'Europe/Berlin',
        nextRunAt: expect.any(Number),
      }),
    ]);
  });
});
