/**
 * A host embeds code it did not write. Each case below is a plugin that misbehaves in one way; each asserts that
 * the host stays up, that the plugin or task ends in the right state with a reason a person can act on, that a
 * healthy plugin next to it keeps working, and that the limits hold. (Syntax errors, throwing imports, hanging
 * top-level awaits, throwing constructors, invalid schemas, duplicate and unsafe ids, throwing or hanging
 * readiness checks, createTasks that throws or returns non-tasks, and tasks that throw objects or ignore their
 * timeout are covered where those features are tested: lifecycle, execute and tasks.)
 */
import {
  ActionPlugin,
  createHost,
  type Host,
  type HostOptions,
  Task,
  type TaskContext,
  TaskError,
  type TaskLogEvent,
  type TaskRecord,
  Type,
} from '@plugboard/core';
import { describe, expect, it } from 'vitest';
import { EchoPlugin, hostsStartedPerTest, single, sleep, tempDir } from './helpers.js';

const startedWith = hostsStartedPerTest();
/** A host with the healthy echo plugin beside the hostile ones. */
const started = (classes: unknown[], options: HostOptions = {}): Promise<Host> =>
  startedWith([EchoPlugin, ...classes], options);

/** The healthy plugin next to the hostile one still runs a task to the end. */
async function expectHealthy(host: Host): Promise<void> {
  expect(host.state).toBe('started');
  expect(host.plugins.get('echo')?.status).toBe('operational');
  const { tasks } = await host.execute('echo', { text: 'still here' });
  expect(await host.tasks.wait(tasks[0]!.id)).toMatchObject({
    state: 'succeeded',
    result: { echoed: 'still here' },
  });
}

async function runOnce(host: Host, id: string, args: Record<string, unknown> = {}): Promise<TaskRecord> {
  const { tasks } = await host.execute(id, args);
  return host.tasks.wait(tasks[0]!.id);
}

/** Collects unhandled rejections while `body` runs (and a little after). */
async function withoutUnhandledRejections(body: () => Promise<void>): Promise<void> {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    await body();
    await sleep(20);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  expect(unhandled).toEqual([]);
}

class Noop extends Task {
  run() {
    return null;
  }
}

describe('plugins that fail to load or declare themselves badly', () => {
  it('a module that throws a value that is not an Error at import is reported with that value', async () => {
    const dir = tempDir({ 'throws-string.mjs': "throw 'licence server unreachable';" });
    const host = await started([], { plugins: { dirs: [dir] } });
    expect(host.report?.failures).toEqual([
      expect.objectContaining({
        code: 'PLUGBOARD_PLUGIN_LOAD_FAILED',
        reason: expect.stringContaining('could not be loaded: licence server unreachable'),
      }),
    ]);
    await expectHealthy(host);
  });

  it('a class whose definition throws when read is reported, and the start goes on', async () => {
    class Booby extends ActionPlugin({ id: 'booby', name: 'Booby', tasks: [Noop] }) {
      static override get definition(): never {
        throw new Error('gotcha');
      }
      createTasks() {}
    }
    const host = await started([Booby]);
    expect(host.report?.failures).toEqual([
      {
        source: { type: 'class', location: 'Booby' },
        code: 'PLUGBOARD_INVALID_PLUGIN',
        reason: 'The definition of plugin class `Booby` cannot be read: gotcha.',
      },
    ]);
    expect(host.plugins.list().map((p) => p.id)).toEqual(['echo']);
    await expectHealthy(host);
  });

  it('a schema that contains itself makes its plugin invalid instead of overflowing the stack', async () => {
    const loop: Record<string, unknown> = { type: 'object', properties: {} };
    (loop.properties as Record<string, unknown>).again = loop;
    class Loop extends ActionPlugin({ id: 'loop', name: 'Loop', args: loop as never, tasks: [Noop] }) {
      createTasks() {}
    }
    const host = await started([Loop]);
    expect(host.plugins.get('loop')).toMatchObject({
      status: 'invalid',
      code: 'PLUGBOARD_INVALID_SCHEMA',
      reason: expect.stringContaining('/again: a schema must not contain itself'),
    });
    await expectHealthy(host);
  });

  it('a schema Plugboard cannot use makes its plugin invalid, each problem named with its path', async () => {
    const prop = (schema: unknown) => ({ type: 'object', properties: { a: schema } });
    const nested = (levels: number): Record<string, unknown> => {
      let node: Record<string, unknown> = { type: 'string' };
      for (let i = 1; i < levels; i++) node = { type: 'object', properties: { n: node } };
      return node;
    };
    const cases: Record<string, [unknown, string]> = {
      'not-object': ['x', 'expected a TypeBox object schema (Type.Object({...})), got string'],
      'is-null': [null, 'expected a TypeBox object schema (Type.Object({...})), got null'],
      'is-array': [[], 'expected a TypeBox object schema (Type.Object({...})), got object'],
      'not-type-object': [{ type: 'string' }, 'expected `type: "object"` at the top, got "string"'],
      'no-type': [{ properties: {} }, 'expected `type: "object"` at the top, got undefined'],
      'props-number': [{ type: 'object', properties: 5 }, '`properties` must be an object of schemas'],
      'props-null': [{ type: 'object', properties: null }, '`properties` must be an object of schemas'],
      'child-number': [prop(5), '/a: a schema must be an object'],
      'child-null': [prop(null), '/a: a schema must be an object'],
      'child-array': [prop([]), '/a: a schema must be an object'],
      'unknown-type': [prop({ type: 'strin' }), '/a: unknown type "strin"'],
      'unknown-in-list': [prop({ type: ['string', 'date'] }), '/a: unknown type "date"'],
      'min-length': [prop({ type: 'string', minLength: '1' }), '/a/minLength must be a number'],
      'max-length': [prop({ type: 'string', maxLength: '1' }), '/a/maxLength must be a number'],
      minimum: [prop({ type: 'number', minimum: '1' }), '/a/minimum must be a number'],
      maximum: [prop({ type: 'number', maximum: '1' }), '/a/maximum must be a number'],
      'min-items': [prop({ type: 'array', minItems: '1' }), '/a/minItems must be a number'],
      'max-items': [prop({ type: 'array', maxItems: '1' }), '/a/maxItems must be a number'],
      'required-string': [{ type: 'object', required: 'a' }, '/required must be an array of names'],
      'required-numbers': [{ type: 'object', required: ['a', 1] }, '/required must be an array of names'],
      items: [prop({ type: 'array', items: 5 }), '/a/items: a schema must be an object'],
      'any-of': [prop({ anyOf: [{ type: 'string' }, 5] }), '/a/anyOf/1: a schema must be an object'],
      'one-of': [prop({ oneOf: [7] }), '/a/oneOf/0: a schema must be an object'],
      'all-of': [prop({ allOf: [{ type: 'nope' }] }), '/a/allOf/0: unknown type "nope"'],
      'too-deep': [
        nested(65),
        `${'/n'.repeat(64)}: schemas nested more than 64 levels deep are not supported`,
      ],
    };
    const classes = Object.entries(cases).map(
      ([id, [args]]) =>
        class extends ActionPlugin({ id, name: id, args: args as never, tasks: [Noop] }) {
          createTasks() {}
        },
    );
    class Deep extends ActionPlugin({ id: 'deep', name: 'x', args: nested(64) as never, tasks: [Noop] }) {
      createTasks() {}
    }
    class Fine extends ActionPlugin({
      id: 'fine',
      name: 'x',
      args: prop({
        type: ['string', 'null'],
        minLength: 1,
        maxLength: 2,
        anyOf: [{ type: 'string' }, { type: 'null' }],
      }) as never,
      tasks: [Noop],
    }) {
      createTasks() {}
    }
    const host = await started([...classes, Deep, Fine]);
    for (const [id, [, problem]] of Object.entries(cases)) {
      const reason = `The \`args\` schema of plugin \`${id}\` is not usable: ${problem}. Declare it with Type.Object({...}).`;
      expect(host.plugins.get(id), id).toMatchObject({ status: 'invalid', code: 'PLUGBOARD_INVALID_SCHEMA' });
      expect(host.plugins.get(id)?.reason, id).toBe(reason);
    }
    expect(host.plugins.get('deep')?.status).toBe('operational');
    expect(host.plugins.get('fine')?.status).toBe('operational');
    await expectHealthy(host);
  });

  it('a properties or flags schema that does not compile makes its plugin invalid', async () => {
    const BadPattern = Type.Object({ token: Type.String({ pattern: '(' }) });
    class BadProps extends ActionPlugin({
      id: 'bad-props',
      name: 'x',
      properties: BadPattern,
      tasks: [Noop],
    }) {
      createTasks() {}
    }
    class BadFlags extends ActionPlugin({ id: 'bad-flags', name: 'x', flags: BadPattern, tasks: [Noop] }) {
      createTasks() {}
    }
    const host = await started([BadProps, BadFlags], { properties: { 'bad-props': { token: 'x' } } });
    expect(host.plugins.get('bad-props')).toMatchObject({
      status: 'invalid',
      code: 'PLUGBOARD_INVALID_SCHEMA',
      reason: expect.stringMatching(
        /^The `properties` schema of plugin `bad-props` does not compile: Invalid/,
      ),
    });
    expect(host.plugins.get('bad-flags')).toMatchObject({
      status: 'invalid',
      code: 'PLUGBOARD_INVALID_SCHEMA',
      reason: expect.stringMatching(/^The `flags` schema of plugin `bad-flags` does not compile/),
    });
    await expectHealthy(host);
  });

  it('metadata of the wrong type and timeouts that are not durations make a plugin invalid', async () => {
    const make = (id: string, extra: Record<string, unknown>) =>
      class extends ActionPlugin({ id, name: id, tasks: [Noop], ...extra }) {
        createTasks() {}
      };
    const host = await started([
      make('soon', { readinessTimeoutMs: 'soon' }),
      make('negative', { timeoutMs: -1 }),
      // Longer than a timer can wait: it would fire after 1 ms instead.
      make('forever', { timeoutMs: 30 * 86_400_000 }),
      make('numeric-name', { name: 42 }),
      make('odd-permissions', { permissions: 'admin' }),
    ]);
    const reasons = Object.fromEntries(
      host.plugins
        .list()
        .filter((p) => p.id !== 'echo')
        .map((p) => [p.id, [p.status, p.code, p.reason]]),
    );
    expect(reasons).toEqual({
      soon: [
        'invalid',
        'PLUGBOARD_INVALID_PLUGIN',
        'Plugin `soon`: `readinessTimeoutMs` must be a number of milliseconds from 1 to 2147483647, got "soon".',
      ],
      negative: [
        'invalid',
        'PLUGBOARD_INVALID_PLUGIN',
        'Plugin `negative`: `timeoutMs` must be a number of milliseconds from 1 to 2147483647, got "-1".',
      ],
      forever: ['invalid', 'PLUGBOARD_INVALID_PLUGIN', expect.stringContaining('`timeoutMs` must be')],
      'numeric-name': [
        'invalid',
        'PLUGBOARD_INVALID_PLUGIN',
        'Plugin `numeric-name`: `name` must be a string, got number.',
      ],
      'odd-permissions': [
        'invalid',
        'PLUGBOARD_INVALID_PLUGIN',
        'Plugin `odd-permissions`: `permissions` must be an array of strings.',
      ],
    });
    await expectHealthy(host);
  });

  it('a task class with a runaway retry policy or an impossible timeout makes its plugin invalid', async () => {
    class Storm extends Task {
      static override retry = { attempts: 1e9, backoff: { type: 'fixed' as const, delayMs: 0 } };
      run() {
        return null;
      }
    }
    class Backwards extends Task {
      static override retry = { attempts: 3, backoff: { type: 'fixed' as const, delayMs: -5 } };
      run() {
        return null;
      }
    }
    class Ages extends Task {
      static override timeoutMs = Number.POSITIVE_INFINITY;
      run() {
        return null;
      }
    }
    const host = await started([
      single('storm', Storm),
      single('backwards', Backwards),
      single('ages', Ages),
    ]);
    expect(host.plugins.get('storm')).toMatchObject({
      status: 'invalid',
      reason: 'Plugin `storm`: task `Storm`: `retry.attempts` must be an integer from 1 to 100.',
    });
    expect(host.plugins.get('backwards')?.reason).toContain('`retry.backoff` must be');
    expect(host.plugins.get('ages')?.reason).toContain('task `Ages`: `timeoutMs` must be a number');
    await expectHealthy(host);
  });
});

describe('readiness checks that answer badly', () => {
  it('anything but true or { ready: true } is not ready, with a reason that is a sentence of bounded length', async () => {
    const make = (id: string, answer: unknown) =>
      class extends ActionPlugin({ id, name: id, tasks: [Noop] }) {
        createTasks() {}
        override isReady() {
          return answer as never;
        }
      };
    const host = await started([
      make('truthy-string', 'yes'),
      make('string-ready', { ready: 'true' }),
      make('object-reason', { ready: false, reason: { why: 'nested' } }),
      make('huge-reason', { ready: false, reason: 'r'.repeat(1_000_000) }),
    ]);
    for (const id of ['truthy-string', 'string-ready', 'object-reason']) {
      expect(host.plugins.get(id)).toMatchObject({
        status: 'not-ready',
        code: 'PLUGBOARD_NOT_READY',
        reason: 'isReady() reported the plugin is not ready.',
      });
    }
    const huge = host.plugins.get('huge-reason')!;
    expect(huge.status).toBe('not-ready');
    expect(huge.reason).toBe(`${'r'.repeat(1000)}… [999000 characters cut]`);
    await expectHealthy(host);
  });

  it('a readiness check that throws a value that cannot even be described fails the plugin, not the host', async () => {
    class Cursed extends ActionPlugin({ id: 'cursed', name: 'Cursed', tasks: [Noop] }) {
      createTasks() {}
      override isReady(): never {
        throw {
          toJSON() {
            throw new Error('no JSON');
          },
          toString() {
            throw new Error('no string');
          },
        };
      }
    }
    const host = await started([Cursed]);
    expect(host.plugins.get('cursed')).toMatchObject({
      status: 'failed',
      code: 'PLUGBOARD_READINESS_FAILED',
      reason: 'The readiness check threw: a thrown value that cannot be read.',
    });
    await expectHealthy(host);
  });
});

describe('createTasks that returns badly', () => {
  it('a createTasks that throws null is a coded failure that says what was thrown', async () => {
    class ThrowsNull extends ActionPlugin({ id: 'throws-null', name: 'x', tasks: [Noop] }) {
      createTasks(): never {
        throw null;
      }
    }
    const host = await started([ThrowsNull]);
    await expect(host.execute('throws-null', {})).rejects.toMatchObject({
      code: 'PLUGBOARD_CREATE_TASKS_FAILED',
      message: 'Plugin `throws-null` failed to create its tasks: non-Error value thrown: null.',
    });
    await expectHealthy(host);
  });

  it('a createTasks that returns an iterable that never ends is cut at the limit and refused', async () => {
    class Endless extends ActionPlugin({ id: 'endless', name: 'Endless', tasks: [Noop] }) {
      createTasks() {
        return {
          *[Symbol.iterator]() {
            for (;;) yield new Noop({});
          },
        } as never;
      }
    }
    const host = await started([Endless], { maxTasksPerExecution: 50 });
    await expect(host.execute('endless', {})).rejects.toMatchObject({
      code: 'PLUGBOARD_TOO_MANY_TASKS',
      message:
        'Plugin `endless` created more than 50 tasks in one execution; the host allows at most 50 (maxTasksPerExecution).',
    });
    expect((await host.tasks.list({ plugin: 'endless' })).items).toEqual([]);
    await expectHealthy(host);
  });

  it('thousands of tasks from one execution are refused at the default limit of 1000, none of them stored', async () => {
    class Flood extends ActionPlugin({ id: 'flood', name: 'Flood', tasks: [Noop] }) {
      createTasks() {
        return Array.from({ length: 5000 }, () => new Noop({}));
      }
    }
    const host = await started([Flood]);
    await expect(host.execute('flood', {})).rejects.toMatchObject({
      code: 'PLUGBOARD_TOO_MANY_TASKS',
      message:
        'Plugin `flood` created 5000 tasks in one execution; the host allows at most 1000 (maxTasksPerExecution).',
    });
    expect((await host.tasks.list({ plugin: 'flood' })).items).toEqual([]);
    await expectHealthy(host);
  });

  it('a task object that throws when it is read is refused as an invalid task', async () => {
    class Trap extends ActionPlugin({ id: 'trap', name: 'Trap', tasks: [Noop] }) {
      createTasks() {
        return new Proxy(new Noop({}), {
          get(_target, key) {
            // Awaitable as a plain value, unreadable as a task.
            if (key === 'then') return undefined;
            throw new Error('do not touch');
          },
        });
      }
    }
    const host = await started([Trap]);
    await expect(host.execute('trap', {})).rejects.toMatchObject({
      code: 'PLUGBOARD_INVALID_TASKS',
      message: 'Plugin `trap`: reading what createTasks returned failed: do not touch.',
    });
    await expectHealthy(host);
  });
});

describe('tasks that throw badly', () => {
  it('a task that throws a string fails with that string as its message', async () => {
    class ThrowsString extends Task {
      run(): never {
        throw 'the printer is on fire';
      }
    }
    const host = await started([single('throws-string', ThrowsString)]);
    expect(await runOnce(host, 'throws-string')).toMatchObject({
      state: 'failed',
      error: { code: 'PLUGBOARD_TASK_FAILED', message: 'the printer is on fire' },
    });
    await expectHealthy(host);
  });

  it('a task that throws null or undefined fails with a message that says so', async () => {
    class ThrowsNothing extends Task<{ what: 'null' | 'undefined' }> {
      run(): never {
        throw this.input.what === 'null' ? null : undefined;
      }
    }
    const host = await started([single('throws-nothing', ThrowsNothing)]);
    expect((await runOnce(host, 'throws-nothing', { what: 'null' })).error).toEqual({
      code: 'PLUGBOARD_TASK_FAILED',
      message: 'non-Error value thrown: null',
    });
    expect((await runOnce(host, 'throws-nothing', { what: 'undefined' })).error).toEqual({
      code: 'PLUGBOARD_TASK_FAILED',
      message: 'non-Error value thrown: undefined',
    });
    await expectHealthy(host);
  });

  it('a task that throws a value whose every reading throws still fails, on time and without an unhandled rejection', async () => {
    class Cursed extends Task {
      run(): never {
        throw new Proxy(
          {},
          {
            get() {
              throw new Error('no reading');
            },
            getPrototypeOf() {
              throw new Error('no prototype');
            },
          },
        );
      }
    }
    const host = await started([single('cursed-task', Cursed)]);
    await withoutUnhandledRejections(async () => {
      const record = await runOnce(host, 'cursed-task');
      expect(record).toMatchObject({
        state: 'failed',
        error: { code: 'PLUGBOARD_TASK_FAILED', message: 'a thrown value that cannot be read' },
      });
    });
    await expectHealthy(host);
  });

  it('a task that throws an Error with a 10 MB message is recorded with the message cut', async () => {
    class Verbose extends Task {
      run(): never {
        throw new Error('e'.repeat(10 * 1024 * 1024));
      }
    }
    const host = await started([single('verbose-error', Verbose)], { maxLogLineLength: 1000 });
    const record = await runOnce(host, 'verbose-error');
    expect(record.state).toBe('failed');
    expect(record.error?.message).toBe(`${'e'.repeat(1000)}… [${10 * 1024 * 1024 - 1000} characters cut]`);
    expect(record.error!.stack!.length).toBeLessThan(4100);
    await expectHealthy(host);
  });

  it('a task error code that is not a code is recorded as a plain failure', async () => {
    class BadCode extends Task {
      run(): never {
        throw new TaskError('refused', { code: `<img src=x onerror=alert(1)>${'x'.repeat(500)}` });
      }
    }
    const host = await started([single('bad-code', BadCode)]);
    expect((await runOnce(host, 'bad-code')).error).toMatchObject({
      code: 'PLUGBOARD_TASK_FAILED',
      message: 'refused',
    });
    await expectHealthy(host);
  });

  it('a task that rejects after it was cancelled stays cancelled and leaves no unhandled rejection', async () => {
    let rejected = false;
    class Sulky extends Task {
      async run(ctx: TaskContext) {
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
        await sleep(30);
        rejected = true;
        throw new Error('you cancelled me');
      }
    }
    const host = await started([single('sulky', Sulky)]);
    await withoutUnhandledRejections(async () => {
      const { tasks } = await host.execute('sulky', {});
      await sleep(20);
      const cancelled = await host.tasks.cancel(tasks[0]!.id);
      expect(cancelled).toMatchObject({ state: 'cancelled', error: { code: 'PLUGBOARD_TASK_CANCELLED' } });
      await sleep(80);
      expect(rejected).toBe(true);
      expect(await host.tasks.get(tasks[0]!.id)).toMatchObject({
        state: 'cancelled',
        error: { code: 'PLUGBOARD_TASK_CANCELLED', message: 'The task was cancelled while it ran.' },
      });
    });
    await expectHealthy(host);
  });

  it('a task class whose constructor throws when the host rebuilds it fails with the reason', async () => {
    let built = 0;
    class OneShot extends Task {
      constructor(input: unknown) {
        super(input);
        if (++built > 1) throw new Error('this task refuses to be rebuilt');
      }
      run() {
        return null;
      }
    }
    const host = await started([single('one-shot', OneShot)]);
    expect(await runOnce(host, 'one-shot')).toMatchObject({
      state: 'failed',
      error: { code: 'PLUGBOARD_TASK_FAILED', message: 'this task refuses to be rebuilt' },
    });
    await expectHealthy(host);
  });
});

describe('tasks that flood the log, the status and the progress', () => {
  it('a 10 MB log line is cut to maxLogLineLength', async () => {
    class Shouter extends Task {
      run(ctx: TaskContext) {
        ctx.log.info('x'.repeat(10 * 1024 * 1024));
        return null;
      }
    }
    const host = await started([single('shouter', Shouter)]);
    const record = await runOnce(host, 'shouter');
    const logs = await host.tasks.logs(record.id);
    expect(logs).toHaveLength(1);
    expect(logs[0]?.message).toBe(`${'x'.repeat(8192)}… [${10 * 1024 * 1024 - 8192} characters cut]`);
    await expectHealthy(host);
  });

  it('a million log lines are bounded: memory, the store and listeners see at most the per-attempt limit', async () => {
    class Chatterbox extends Task {
      run(ctx: TaskContext) {
        for (let i = 1; i <= 1_000_000; i++) ctx.log.info(`line ${i}`);
        return 'said it all';
      }
    }
    const host = await started([single('chatterbox', Chatterbox)], { maxLogLinesPerAttempt: 2000 });
    const events: TaskLogEvent[] = [];
    host.events.on('task:log', (event) => events.push(event));
    const started_ = performance.now();
    const record = await runOnce(host, 'chatterbox');
    expect(performance.now() - started_).toBeLessThan(5000);
    expect(record).toMatchObject({ state: 'succeeded', result: 'said it all', logCount: 2001 });
    expect(events).toHaveLength(2001);
    expect(events.at(-1)?.entry).toMatchObject({
      seq: 2001,
      level: 'warn',
      message:
        '998000 log lines were dropped: one attempt of a task keeps at most 2000 (maxLogLinesPerAttempt).',
    });
    // The memory store keeps the newest 1000 of what was written, the note among them.
    await sleep(10);
    const stored = await host.tasks.logs(record.id, { limit: 5000 });
    expect(stored).toHaveLength(1000);
    expect(stored.at(-1)?.message).toContain('998000 log lines were dropped');
    await expectHealthy(host);
  });

  it('log messages that are not strings are written as their description', async () => {
    class Odd extends Task {
      run(ctx: TaskContext) {
        ctx.log.info({ files: 3 } as never);
        ctx.log.warn(Symbol('tag') as never);
        ctx.log.error({
          toJSON() {
            throw new Error('no');
          },
          toString() {
            throw new Error('no');
          },
        } as never);
        return null;
      }
    }
    const host = await started([single('odd-log', Odd)]);
    const record = await runOnce(host, 'odd-log');
    expect(record.state).toBe('succeeded');
    await sleep(5);
    expect((await host.tasks.logs(record.id)).map((l) => l.message)).toEqual([
      'non-Error value thrown: {"files":3}',
      'non-Error value thrown: Symbol(tag)',
      'a thrown value that cannot be read',
    ]);
    await expectHealthy(host);
  });

  it('progress outside 0-100, infinite or not a number, and huge status texts are bounded', async () => {
    class Wild extends Task {
      run(ctx: TaskContext) {
        ctx.progress(Number.POSITIVE_INFINITY);
        ctx.progress('50' as never);
        ctx.progress(Number.NEGATIVE_INFINITY, 'm'.repeat(1_000_000));
        ctx.progress({} as never);
        ctx.status('s'.repeat(1_000_000));
        ctx.fail({ because: 'reasons' } as never);
        return null;
      }
    }
    const host = await started([single('wild', Wild)], { progressIntervalMs: 0 });
    const seen: number[] = [];
    host.events.on('task:progress', (e) => seen.push(e.progress));
    const record = await runOnce(host, 'wild');
    expect(seen).toEqual([100, 0, 0]);
    expect(record.progressMessage).toHaveLength(500);
    expect(record.statusText).toHaveLength(500);
    expect(record).toMatchObject({
      state: 'failed',
      error: { code: 'PLUGBOARD_TASK_FAILED', message: 'non-Error value thrown: {"because":"reasons"}' },
    });
    await expectHealthy(host);
  });
});

describe('tasks that will not stop', () => {
  it('a task that never checks its signal is recorded cancelled at once and frees its slot', async () => {
    let finishedLate = false;
    class Deaf extends Task {
      async run() {
        await sleep(1000);
        finishedLate = true;
        return 'too late';
      }
    }
    const host = await started([single('deaf', Deaf)], { concurrency: 1 });
    const { tasks } = await host.execute('deaf', {});
    await sleep(20);
    const before = performance.now();
    const cancelled = await host.tasks.cancel(tasks[0]!.id);
    // At once, not when the task's own sleep ends (a generous bound for a busy machine).
    expect(performance.now() - before).toBeLessThan(500);
    expect(cancelled).toMatchObject({ state: 'cancelled', result: null });
    // With one slot, the healthy plugin runs while the deaf task is still sleeping.
    await expectHealthy(host);
    expect(finishedLate).toBe(false);
    await sleep(1050);
    expect(finishedLate).toBe(true);
    expect(await host.tasks.get(tasks[0]!.id)).toMatchObject({ state: 'cancelled', result: null });
  });

  it('tasks that never check their signal time out on time, one after the other in a single slot', async () => {
    class Deaf extends Task {
      async run() {
        await sleep(1000);
        return 'ignored';
      }
    }
    const host = await started([single('deaf', Deaf, { timeoutMs: 50 })], { concurrency: 1 });
    const before = performance.now();
    const [first, second] = await Promise.all([runOnce(host, 'deaf'), runOnce(host, 'deaf')]);
    // Both within their timeouts, not one after the other's sleep (1 s).
    expect(performance.now() - before).toBeLessThan(700);
    expect([first.state, second.state]).toEqual(['timed-out', 'timed-out']);
    expect(second.error?.code).toBe('PLUGBOARD_TASK_TIMED_OUT');
    await expectHealthy(host);
  });
});

describe('tasks that try to end the process', () => {
  it('with guardProcessExit, process.exit from a task fails the task and the process lives on', async () => {
    const original = process.exit;
    class Quitter extends Task<{ how: 'direct' | 'swallowed' | 'timer' }> {
      async run() {
        if (this.input.how === 'direct') process.exit(3);
        if (this.input.how === 'swallowed') {
          try {
            process.exit(0);
          } catch {
            // The plugin hides the refusal and claims success: the task is failed regardless.
          }
          return 'all good';
        }
        // From a timer the task started: still inside the task's asynchronous context.
        await new Promise<void>((resolve) =>
          setTimeout(() => {
            try {
              process.exit(1);
            } catch {}
            resolve();
          }, 5),
        );
        return 'all good';
      }
    }
    const host = await started([single('quitter', Quitter)], { guardProcessExit: true });
    expect(process.exit).not.toBe(original);
    for (const [how, code] of [
      ['direct', '3'],
      ['swallowed', '0'],
      ['timer', '1'],
    ] as const) {
      const record = await runOnce(host, 'quitter', { how });
      expect(record).toMatchObject({
        state: 'failed',
        result: null,
        error: {
          code: 'PLUGBOARD_PROCESS_EXIT_REFUSED',
          message: `The task called process.exit(${code}); the host refused to end its process. Return or throw from run() instead.`,
        },
      });
    }
    await expectHealthy(host);
    await host.stop();
    expect(process.exit).toBe(original);
  });

  it('without guardProcessExit the host leaves process.exit alone', async () => {
    const original = process.exit;
    const host = await started([]);
    expect(process.exit).toBe(original);
    expect(() => createHost({ guardProcessExit: 'yes' as never })).toThrow(
      'Expected `guardProcessExit` to be a boolean, got `"yes"` (string).',
    );
    await expectHealthy(host);
  });
});
