import { PassThrough } from 'node:stream';
import {
  ActionPlugin,
  BackgroundTaskPlugin,
  createHost,
  type Host,
  Task,
  type TaskContext,
  Type,
} from '@plugboard/core';
import { createTestHost } from '@plugboard/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { ExitCode, runCli } from '../src/index.js';

class WaitTask extends Task<Record<string, never>> {
  async run(ctx: TaskContext) {
    ctx.log.info('waiting for cancel');
    await new Promise((_, reject) => {
      ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
    });
  }
}

class WaitPlugin extends ActionPlugin({ id: 'wait', name: 'Wait', tasks: [WaitTask] }) {
  createTasks() {
    return new WaitTask({});
  }
}

class HelloTask extends Task<Record<string, never>> {
  run(ctx: TaskContext) {
    ctx.log.info('hello');
    return { said: 'hello' };
  }
}

class HelloPlugin extends ActionPlugin({ id: 'hello', name: 'Hello', tasks: [HelloTask] }) {
  createTasks() {
    return new HelloTask({});
  }
}

class MaybeTask extends Task<{ fail: boolean }> {
  run() {
    if (this.input.fail) throw new Error('this one broke');
    return { ok: true };
  }
}

/** Three tasks, the middle one failing unless every task is asked to succeed. */
class BatchPlugin extends ActionPlugin({
  id: 'batch',
  name: 'Batch',
  args: Type.Object({ allSucceed: Type.Boolean({ default: false }) }),
  tasks: [MaybeTask],
}) {
  createTasks(args: { allSucceed: boolean }) {
    return [false, !args.allSucceed, false].map((fail) => new MaybeTask({ fail }));
  }
}

class SweepPlugin extends BackgroundTaskPlugin({
  id: 'sweep',
  name: 'Sweep',
  delaySeconds: 3600,
  repeatSeconds: 60,
  tasks: [HelloTask],
}) {
  createTasks() {
    return new HelloTask({});
  }
}

function capture() {
  const stream = new PassThrough();
  let text = '';
  stream.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk;
  });
  return { stream, text: () => text };
}

const hosts: Host[] = [];
afterEach(async () => {
  for (const host of hosts.splice(0)) await host.stop();
});

async function startedHost(): Promise<Host> {
  const host = await createTestHost({ plugins: [WaitPlugin, HelloPlugin, BatchPlugin, SweepPlugin] });
  hosts.push(host);
  return host;
}

function run(host: Host, args: string[], extra: Parameters<typeof runCli>[2] = {}) {
  const out = capture();
  const err = capture();
  const done = runCli(host, args, {
    from: 'user',
    name: 'tool',
    stdout: out.stream,
    stderr: err.stream,
    env: {},
    handleSignals: false,
    ...extra,
  });
  return { done, out: out.text, err: err.text };
}

describe('runCli in a host application', () => {
  it('`tasks` lists the recent tasks of a host that keeps running, newest first', async () => {
    const host = await startedHost();
    const first = run(host, ['hello']);
    expect(await first.done).toBe(ExitCode.Success);
    const second = run(host, ['hello', '--json']);
    expect(await second.done).toBe(ExitCode.Success);
    const { tasks } = JSON.parse(second.out()) as { tasks: Array<{ id: string }> };

    const table = run(host, ['tasks']);
    expect(await table.done).toBe(0);
    const lines = table.out().trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+PLUGIN\s+STATE\s+PROGRESS\s+STARTED\s+DURATION\s+USER$/);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(
      new RegExp(`^${tasks[0]!.id}\\s+Hello\\s+succeeded\\s+100%\\s+\\S+ \\S+\\s+\\d+ ms\\s`),
    );

    const json = run(host, ['tasks', '--limit', '1', '--json']);
    expect(await json.done).toBe(0);
    const listed = JSON.parse(json.out()).tasks;
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({
      pluginId: 'hello',
      pluginName: 'Hello',
      durationMs: expect.any(Number),
    });
    // The host stays started: runCli only stops hosts it started itself.
    expect(host.state).toBe('started');
  });

  it('`tasks --limit` out of range is a usage error reported by the host', async () => {
    const host = await startedHost();
    const bad = run(host, ['tasks', '--limit', '900']);
    expect(await bad.done).toBe(ExitCode.Usage);
    expect(bad.err()).toContain('  --limit: must be an integer from 1 to 500');
  });

  it('`schedules` lists the schedules and `schedules trigger` runs one and follows its task', async () => {
    const host = await startedHost();
    const list = run(host, ['schedules']);
    expect(await list.done).toBe(0);
    expect(list.out()).toMatch(/^sweep\s+Sweep\s+every minute\s+\S+ \S+\s+-\s+-\s+0$/m);
    const listJson = run(host, ['schedules', '--json']);
    expect(await listJson.done).toBe(0);
    expect(JSON.parse(listJson.out()).schedules[0]).toMatchObject({
      pluginName: 'Sweep',
      cadence: 'every minute',
    });

    const trigger = run(host, ['schedules', 'trigger', 'sweep']);
    expect(await trigger.done).toBe(0);
    expect(trigger.out()).toContain('Sweep info  hello');
    expect(trigger.out()).toContain('Sweep succeeded');

    const unknown = run(host, ['schedules', 'trigger', 'nope']);
    expect(await unknown.done).toBe(ExitCode.Usage);
    expect(unknown.err()).toContain('(PLUGBOARD_UNKNOWN_SCHEDULE)');
  });

  it('aborting the `signal` option cancels the running tasks, like Ctrl-C', async () => {
    const host = await startedHost();
    const controller = new AbortController();
    host.events.once('task:started', () => setTimeout(() => controller.abort(), 20));
    const waiting = run(host, ['wait'], { signal: controller.signal });
    expect(await waiting.done).toBe(ExitCode.TaskFailed);
    expect(waiting.out()).toContain('Cancelling 1 task');
    expect(waiting.out()).toContain('Wait cancelled');
    const [record] = (await host.tasks.list({ plugin: 'wait' })).items;
    expect(record!.state).toBe('cancelled');
  });

  it('exits 1 when one task of a run fails and the others succeed, and 0 when all succeed', async () => {
    const host = await startedHost();
    const mixed = run(host, ['batch', '--json']);
    expect(await mixed.done).toBe(ExitCode.TaskFailed);
    expect((JSON.parse(mixed.out()).tasks as Array<{ state: string }>).map((t) => t.state)).toEqual([
      'succeeded',
      'failed',
      'succeeded',
    ]);
    const clean = run(host, ['batch', '--all-succeed', '--json']);
    expect(await clean.done).toBe(ExitCode.Success);
  });

  it('starts a host that was not started, and stops it afterwards', async () => {
    const host = createHost({ plugins: { classes: [HelloPlugin] }, env: false, argv: [] });
    const hello = run(host, ['hello']);
    expect(await hello.done).toBe(0);
    expect(host.state).toBe('stopped');
  });

  it('runs plugins as the user the `user` option resolves from the environment', async () => {
    const host = await startedHost();
    const hello = run(host, ['hello', '--json'], {
      env: { LOGNAME: 'ada' },
      user: ({ env }) => ({ id: `cli:${env.LOGNAME}` }),
    });
    expect(await hello.done).toBe(0);
    expect(JSON.parse(hello.out()).tasks[0].user).toEqual({ id: 'cli:ada' });
  });

  it('checks its arguments and options before doing anything', async () => {
    const host = await startedHost();
    await expect(runCli(host, ['tool', 3] as never)).rejects.toThrow(
      'Expected `argv` to be an array of strings, got `3` (number).',
    );
    await expect(runCli(host, 'greet' as never)).rejects.toThrow(
      'Expected `argv` to be an array of strings, got `"greet"` (string).',
    );
    await expect(runCli(host, [], { stdout: 1 as never })).rejects.toThrow(
      'Expected `stdout` to be a writable stream, got `1` (number).',
    );
    await expect(runCli(host, [], { isTTY: 'yes' as never })).rejects.toThrow(
      'Expected `isTTY` to be a boolean, got `"yes"` (string).',
    );
    await expect(runCli(host, [], { user: { id: 'x' } as never })).rejects.toThrow(
      'Expected `user` to be a function ({ env }) => user, got `{"id":"x"}` (object).',
    );
    await expect(runCli({} as never, [])).rejects.toThrow(
      'Expected `host` to be a host made by createHost(), got `{}` (object).',
    );
  });
});
