import { Writable } from 'node:stream';
import {
  ActionPlugin,
  createHost,
  type Host,
  type HostLogger,
  type HostOptions,
  memoryStore,
  type Static,
  Task,
  type TaskContext,
  TaskError,
  type TaskStore,
  Type,
} from '@plugboard/core';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';

const API_KEY = 'sk-live-77c1d0e4a2b9';

class ChattyTask extends Task<{ mode: 'ok' | 'fail' }> {
  static override retry = { attempts: 2, backoff: { type: 'fixed' as const, delayMs: 1 } };
  async run(ctx: TaskContext) {
    const { apiKey } = ctx.properties as { apiKey: string };
    ctx.log.debug('looking around');
    ctx.log.info(`calling the service with ${apiKey}`);
    ctx.log.critical('the disk is nearly full');
    if (this.input.mode === 'fail')
      throw new TaskError(`the service refused ${apiKey}`, { code: 'SERVICE_DOWN' });
    return { ok: true };
  }
}

const Args = Type.Object({ mode: Type.Union([Type.Literal('ok'), Type.Literal('fail')]) });

class Chatty extends ActionPlugin({
  id: 'chatty',
  name: 'Chatty',
  args: Args,
  properties: Type.Object({ apiKey: Type.String({ writeOnly: true }) }),
  tasks: [ChattyTask],
}) {
  createTasks(args: Static<typeof Args>) {
    return new ChattyTask({ mode: args.mode });
  }
}

class Locked extends ActionPlugin({ id: 'locked', name: 'Locked', tasks: [ChattyTask] }) {
  createTasks() {}
  override isReady() {
    return { ready: false, reason: `The key ${API_KEY} was revoked.` };
  }
}

/** A pino logger writing JSON lines into an array, as a host would ship them. */
function pinoLines(level: pino.Level = 'debug') {
  const lines: Record<string, any>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

const hosts: Host[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop()));
  vi.restoreAllMocks();
});

async function startHost(options: HostOptions) {
  const host = createHost({
    env: false,
    argv: [],
    plugins: { classes: [Chatty, Locked] },
    properties: { chatty: { apiKey: API_KEY } },
    ...options,
  });
  hosts.push(host);
  await host.start();
  return host;
}

describe('the host logger', () => {
  it('a pino logger receives the start, plugin statuses and task ends with their fields', async () => {
    const { logger, lines } = pinoLines();
    const host = await startHost({ logger });
    const { tasks } = await host.execute('chatty', { mode: 'ok' }, { user: { id: 'ada' } });
    const record = await host.tasks.wait(tasks[0]!.id);
    await host.stop();

    expect(lines.find((l) => l.event === 'plugin:status' && l.pluginId === 'chatty')).toMatchObject({
      level: 30,
      status: 'operational',
      msg: 'Plugin chatty is operational',
    });
    expect(lines.find((l) => l.event === 'plugin:status' && l.pluginId === 'locked')).toMatchObject({
      level: 40,
      status: 'not-ready',
      reason: 'The key [secret] was revoked.',
    });
    expect(lines.find((l) => l.event === 'host:started')).toMatchObject({
      level: 30,
      plugins: 2,
      operational: 1,
      store: 'memory',
      runtime: 'in-process',
      msg: 'Plugboard host started: 1 of 2 plugins operational',
    });
    expect(lines.find((l) => l.event === 'task:started')).toMatchObject({
      level: 20,
      taskId: record.id,
      pluginId: 'chatty',
      attempt: 1,
      userId: 'ada',
    });
    expect(lines.find((l) => l.event === 'task:finished')).toMatchObject({
      level: 30,
      taskId: record.id,
      pluginId: 'chatty',
      attempt: 1,
      userId: 'ada',
      state: 'succeeded',
      durationMs: expect.any(Number),
      msg: 'Task chatty/ChattyTask succeeded',
    });
    expect(lines.at(-1)).toMatchObject({ event: 'host:stopped', msg: 'Plugboard host stopped' });
    // Task log lines stay in the store unless asked for.
    expect(lines.filter((l) => l.event === 'task:log')).toEqual([]);
    expect(JSON.stringify(lines)).not.toContain(API_KEY);
  });

  it('with logTaskLines the tasks’ lines arrive with task id, plugin id, attempt and user id, secrets replaced', async () => {
    const { logger, lines } = pinoLines();
    const host = await startHost({ logger, logTaskLines: true, logLevel: 'debug' });
    const { tasks } = await host.execute('chatty', { mode: 'fail' }, { user: { id: 'grace' } });
    const record = await host.tasks.wait(tasks[0]!.id);
    expect(record).toMatchObject({ state: 'failed', attempt: 2 });

    const taskLines = lines.filter((l) => l.event === 'task:log');
    expect(taskLines.map((l) => [l.attempt, l.level, l.taskLevel, l.msg])).toEqual([
      [1, 20, 'debug', 'looking around'],
      [1, 30, 'info', 'calling the service with [secret]'],
      [1, 50, 'critical', 'the disk is nearly full'],
      [2, 20, 'debug', 'looking around'],
      [2, 30, 'info', 'calling the service with [secret]'],
      [2, 50, 'critical', 'the disk is nearly full'],
    ]);
    for (const line of taskLines) {
      expect(line).toMatchObject({ taskId: record.id, pluginId: 'chatty', userId: 'grace' });
    }
    expect(lines.find((l) => l.event === 'task:finished')).toMatchObject({
      level: 40,
      taskId: record.id,
      attempt: 2,
      userId: 'grace',
      state: 'failed',
      errorCode: 'SERVICE_DOWN',
      error: 'the service refused [secret]',
      msg: 'Task chatty/ChattyTask failed: the service refused [secret]',
    });
    expect(JSON.stringify(lines)).not.toContain(API_KEY);
  });

  it('a store fault goes to logger.error with its code, secrets replaced, and not to stderr', async () => {
    const { logger, lines } = pinoLines();
    const store = memoryStore();
    let broken = false;
    const failing = new Proxy(store, {
      get(target, key) {
        if (key === 'appendLogs' && broken) {
          return async () => {
            throw new Error(`disk full while writing a line about ${API_KEY}`);
          };
        }
        const value = Reflect.get(target, key, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as TaskStore;
    const stderr = vi.spyOn(console, 'error').mockImplementation(() => {});
    const host = await startHost({ logger, store: failing });
    broken = true;
    const { tasks } = await host.execute('chatty', { mode: 'ok' });
    await host.tasks.wait(tasks[0]!.id);
    await vi.waitFor(() => expect(lines.some((l) => l.event === 'host:error')).toBe(true));

    expect(lines.find((l) => l.event === 'host:error')).toMatchObject({
      level: 50,
      err: { type: 'Error', message: 'disk full while writing a line about [secret]' },
      msg: 'disk full while writing a line about [secret]',
    });
    expect(JSON.stringify(lines)).not.toContain(API_KEY);
    expect(stderr).not.toHaveBeenCalled();
  });

  it('console fits the logger shape, and a logger that throws fails neither the task nor the host', async () => {
    const fits: HostLogger = console;
    expect(fits).toBe(console);
    const stderr = vi.spyOn(console, 'error').mockImplementation(() => {});
    const throwing: HostLogger = {
      debug() {},
      info() {
        throw new Error('the log shipper is down');
      },
      warn() {},
      error() {},
    };
    const host = await startHost({ logger: throwing });
    const { tasks } = await host.execute('chatty', { mode: 'ok' });
    expect(await host.tasks.wait(tasks[0]!.id)).toMatchObject({ state: 'succeeded' });
    expect(stderr).toHaveBeenCalledWith(expect.stringContaining('the log shipper is down'));
  });

  it('refuses a logger without the four level methods, and a logTaskLines that is not a boolean', () => {
    expect(() => createHost({ logger: { info() {} } as unknown as HostLogger })).toThrow(
      expect.objectContaining({
        code: 'PLUGBOARD_INVALID_OPTION',
        message: 'Expected `logger.debug` to be a function, got `undefined` (undefined).',
      }),
    );
    expect(() => createHost({ logger: 'pino' as unknown as HostLogger })).toThrow(
      expect.objectContaining({ code: 'PLUGBOARD_INVALID_OPTION' }),
    );
    expect(() => createHost({ logTaskLines: 'yes' as unknown as boolean })).toThrow(
      expect.objectContaining({ code: 'PLUGBOARD_INVALID_OPTION' }),
    );
  });

  it('host.logger is the logger the host was given, for the parts a host adds around it', () => {
    const { logger } = pinoLines();
    expect(createHost({ logger }).logger).toBe(logger);
    expect(createHost().logger).toBeUndefined();
  });
});
