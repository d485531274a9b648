import {
  ActionPlugin,
  ContextPlugin,
  defineContextKind,
  invalidArguments,
  type PlugboardError,
  type Static,
  Task,
  Type,
} from '@plugboard/core';
import { describe, expect, it } from 'vitest';
import { EchoPlugin, EchoTask, hostsStartedPerTest } from './helpers.js';

// Hosts stop with the default timeout for running tasks.
const started = hostsStartedPerTest(5000);

async function rejection(promise: Promise<unknown>): Promise<PlugboardError> {
  try {
    await promise;
  } catch (error) {
    return error as PlugboardError;
  }
  throw new Error('expected a rejection');
}

describe('arguments', () => {
  it('names every failing field and why, and creates no task', async () => {
    const host = await started([EchoPlugin]);
    const error = await rejection(host.execute('echo', { text: '', steps: 2.5, copies: 99, extra: 1 }));
    expect(error.code).toBe('PLUGBOARD_INVALID_ARGUMENTS');
    expect(error.status).toBe(400);
    expect(error.details.fields).toEqual([
      { path: '/text', message: 'must not have fewer than 1 characters' },
      { path: '/steps', message: 'must be integer' },
      { path: '/copies', message: 'must be <= 50' },
    ]);
    expect(error.message).toBe(
      'Invalid arguments for plugin `echo`: `/text` must not have fewer than 1 characters; `/steps` must be integer; `/copies` must be <= 50.',
    );
    expect((await host.tasks.list()).items).toEqual([]);
  });

  it('reports a missing required argument', async () => {
    const host = await started([EchoPlugin]);
    const error = await rejection(host.execute('echo', {}));
    expect(error.details.fields).toEqual([{ path: '/text', message: 'is required' }]);
  });

  it('applies schema defaults before createTasks sees the arguments', async () => {
    const host = await started([EchoPlugin]);
    const { tasks } = await host.execute('echo', { text: 'hi' });
    expect(tasks).toHaveLength(1);
    expect(tasks[0]?.input).toEqual({ text: 'hi' });
  });

  it('never lets prototype-pollution keys reach plugin code', async () => {
    let seen: unknown;
    const Args = Type.Object({ options: Type.Optional(Type.Object({}, { additionalProperties: true })) });
    class Probe extends ActionPlugin({ id: 'probe', name: 'Probe', args: Args, tasks: [EchoTask] }) {
      createTasks(args: Static<typeof Args>) {
        seen = args;
        return [];
      }
    }
    const host = await started([Probe]);
    const hostile = JSON.parse(
      '{"__proto__": {"polluted": true}, "options": {"constructor": {"prototype": {"polluted": true}}, "ok": 1}}',
    );
    await host.execute('probe', hostile);
    expect(seen).toEqual({ options: { ok: 1 } });
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(seen)).toBe(Object.prototype);
  });
});

describe('refusals', () => {
  it('refuses an unknown plugin with a coded 404 error', async () => {
    const host = await started([EchoPlugin]);
    const error = await rejection(host.execute('nope', {}));
    expect(error).toMatchObject({ code: 'PLUGBOARD_UNKNOWN_PLUGIN', status: 404 });
    expect(error.message).toBe('No plugin has id `nope`; host.plugins.list() shows the installed ones.');
  });

  it('refuses a plugin that is not operational and says why', async () => {
    class Waiting extends ActionPlugin({ id: 'waiting', name: 'Waiting', tasks: [EchoTask] }) {
      createTasks() {}
      override isReady() {
        return { ready: false, reason: 'Connect the scanner first.' };
      }
    }
    const host = await started([Waiting]);
    const error = await rejection(host.execute('waiting', {}));
    expect(error).toMatchObject({ code: 'PLUGBOARD_PLUGIN_NOT_OPERATIONAL', status: 409 });
    expect(error.message).toBe('Plugin `waiting` is not-ready: Connect the scanner first.');
  });

  it('refuses a user without the permissions the plugin needs, naming them', async () => {
    class Admin extends ActionPlugin({
      id: 'purge',
      name: 'Purge',
      permissions: ['media:write', 'admin'],
      tasks: [EchoTask],
    }) {
      createTasks() {
        return [];
      }
    }
    const host = await started([Admin]);
    const error = await rejection(
      host.execute('purge', {}, { user: { id: 'ann', permissions: ['media:write'] } }),
    );
    expect(error).toMatchObject({
      code: 'PLUGBOARD_FORBIDDEN',
      status: 403,
      details: { missing: ['admin'] },
    });
    expect(error.message).toBe(
      'User `ann` may not execute plugin `purge`: it needs the permission(s) `admin`.',
    );
    await expect(host.execute('purge', {})).rejects.toMatchObject({ code: 'PLUGBOARD_FORBIDDEN' });
    expect(await host.plugins.mayExecute({ id: 'ann', permissions: ['media:write'] }, 'purge')).toBe(false);
    expect(
      await host.plugins.mayExecute({ id: 'root', permissions: ['admin', 'media:write'] }, 'purge'),
    ).toBe(true);
    expect(await host.plugins.mayExecute({ id: 'root', permissions: ['admin'] }, 'no-such-plugin')).toBe(
      false,
    );
    await expect(
      host.execute('purge', {}, { user: { id: 'root', permissions: ['admin', 'media:write'] } }),
    ).resolves.toEqual({ tasks: [] });
  });

  it('lets a host hook decide who may execute a plugin', async () => {
    const host = await started([EchoPlugin], {
      authorize: (user, plugin) => user.id === 'owner' && plugin.id === 'echo',
    });
    await expect(host.execute('echo', { text: 'x' }, { user: { id: 'guest' } })).rejects.toMatchObject({
      code: 'PLUGBOARD_FORBIDDEN',
    });
    const { tasks } = await host.execute('echo', { text: 'x' }, { user: { id: 'owner' } });
    expect(tasks).toEqual([expect.objectContaining({ pluginId: 'echo', user: { id: 'owner' } })]);
  });
});

describe('createTasks', () => {
  class Three extends ActionPlugin({
    id: 'counted',
    name: 'Counted',
    args: Type.Object({ n: Type.Integer({ minimum: 0 }) }),
    tasks: [EchoTask],
  }) {
    createTasks(args: { n: number }) {
      if (args.n === 1) return new EchoTask({ text: 'single' });
      return Array.from({ length: args.n }, (_, i) => new EchoTask({ text: `#${i}` }));
    }
  }

  it('may create zero, one or many tasks', async () => {
    const host = await started([Three]);
    expect((await host.execute('counted', { n: 0 })).tasks).toEqual([]);
    expect((await host.execute('counted', { n: 1 })).tasks.map((t) => t.input)).toEqual([{ text: 'single' }]);
    const { tasks } = await host.execute('counted', { n: 3 }, { user: { id: 'u' } });
    expect(tasks.map((t) => [t.state, t.taskType, t.user.id])).toEqual([
      ['queued', 'counted/EchoTask', 'u'],
      ['queued', 'counted/EchoTask', 'u'],
      ['queued', 'counted/EchoTask', 'u'],
    ]);
    const done = await Promise.all(tasks.map((t) => host.tasks.wait(t.id)));
    expect(done.map((r) => r.result)).toEqual([{ echoed: '#0' }, { echoed: '#1' }, { echoed: '#2' }]);
  });

  it('refuses more tasks than the host allows in one execution', async () => {
    const host = await started([Three], { maxTasksPerExecution: 10 });
    await expect(host.execute('counted', { n: 11 })).rejects.toMatchObject({
      code: 'PLUGBOARD_TOO_MANY_TASKS',
      message:
        'Plugin `counted` created 11 tasks in one execution; the host allows at most 10 (maxTasksPerExecution).',
    });
    expect((await host.tasks.list()).items).toEqual([]);
  });

  it('reports a createTasks that throws, keeping the cause', async () => {
    const cause = new Error('catalogue offline');
    class Throws extends ActionPlugin({ id: 'throws', name: 'Throws', tasks: [EchoTask] }) {
      createTasks(): never {
        throw cause;
      }
    }
    const host = await started([Throws]);
    const error = await rejection(host.execute('throws', {}));
    expect(error).toMatchObject({ code: 'PLUGBOARD_CREATE_TASKS_FAILED', cause });
    expect(error.message).toBe('Plugin `throws` failed to create its tasks: catalogue offline.');
  });

  it('passes on an invalid-arguments error a plugin throws for a rule across fields', async () => {
    class Range extends ActionPlugin({
      id: 'range',
      name: 'Range',
      args: Type.Object({ since: Type.Integer(), until: Type.Integer() }),
      tasks: [EchoTask],
    }) {
      createTasks(args: { since: number; until: number }) {
        if (args.until < args.since) {
          throw invalidArguments([{ path: '/until', message: 'must not be before `since`' }]);
        }
        return [];
      }
    }
    const host = await started([Range]);
    const error = await rejection(host.execute('range', { since: 5, until: 1 }));
    expect(error).toMatchObject({
      code: 'PLUGBOARD_INVALID_ARGUMENTS',
      status: 400,
      details: { fields: [{ path: '/until', message: 'must not be before `since`' }] },
    });
    expect(error.message).toBe('Invalid arguments: `/until` must not be before `since`.');
  });

  it('refuses what is not a task, a task class the plugin does not list, and input that is not JSON', async () => {
    class Unlisted extends Task {
      run() {
        return 1;
      }
    }
    class Mixed extends ActionPlugin({
      id: 'mixed',
      name: 'Mixed',
      args: Type.Object({ kind: Type.String() }),
      tasks: [EchoTask],
    }) {
      createTasks(args: { kind: string }) {
        if (args.kind === 'string') return ['not a task'] as never;
        if (args.kind === 'unlisted') return new Unlisted({});
        const circular: Record<string, unknown> = {};
        circular.self = circular;
        return new EchoTask(circular as never);
      }
    }
    const host = await started([Mixed]);
    await expect(host.execute('mixed', { kind: 'string' })).rejects.toMatchObject({
      code: 'PLUGBOARD_INVALID_TASKS',
      message:
        'Plugin `mixed`: createTasks returned `"not a task"` (string) at position 0; return Task instances (or none).',
    });
    await expect(host.execute('mixed', { kind: 'unlisted' })).rejects.toMatchObject({
      code: 'PLUGBOARD_UNKNOWN_TASK_TYPE',
      message:
        "Plugin `mixed` created a `Unlisted` task but does not list it: add it to the plugin's `tasks: [...]`.",
    });
    await expect(host.execute('mixed', { kind: 'circular' })).rejects.toMatchObject({
      code: 'PLUGBOARD_TASK_INPUT_NOT_SERIALIZABLE',
    });
    expect((await host.tasks.list()).items).toEqual([]);
  });
});

describe('context plugins', () => {
  interface Book {
    readonly id: string;
    readonly title: string;
    readonly path: string;
  }
  const books: Record<string, Book> = { b1: { id: 'b1', title: 'Dune', path: '/library/dune' } };
  const bookKind = defineContextKind<Book>({
    id: 'book',
    idArgument: 'bookId',
    description: 'The book to act on',
    resolve: (id) => books[id],
  });
  class CoverTask extends Task<{ path: string; size: number }, string> {
    run() {
      return `${this.input.path}/cover-${this.input.size}.jpg`;
    }
  }
  const Args = Type.Object({ size: Type.Integer({ default: 256 }) });
  class RebuildCover extends ContextPlugin(bookKind, {
    id: 'rebuild-cover',
    name: 'Rebuild cover',
    args: Args,
    tasks: [CoverTask],
  }) {
    createTasks(args: Static<typeof Args>, book: Book) {
      return new CoverTask({ path: book.path, size: args.size });
    }
  }

  it('resolves the context object from its id and hands it to createTasks', async () => {
    const host = await started([RebuildCover]);
    expect(host.plugins.get('rebuild-cover')).toMatchObject({
      kind: 'context',
      context: { kind: 'book', idArgument: 'bookId', description: 'The book to act on' },
    });
    const { tasks } = await host.execute('rebuild-cover', {}, { context: 'b1' });
    expect(tasks[0]?.contextId).toBe('b1');
    expect((await host.tasks.wait(tasks[0]!.id)).result).toBe('/library/dune/cover-256.jpg');
  });

  it('refuses a missing or unknown context id with coded errors naming the id argument', async () => {
    const host = await started([RebuildCover]);
    await expect(host.execute('rebuild-cover', {})).rejects.toMatchObject({
      code: 'PLUGBOARD_CONTEXT_REQUIRED',
      status: 400,
      details: { fields: [{ path: '/bookId', message: 'is required' }] },
    });
    await expect(host.execute('rebuild-cover', {}, { context: 'b404' })).rejects.toMatchObject({
      code: 'PLUGBOARD_UNKNOWN_CONTEXT',
      status: 404,
      message: 'No book has id `b404`.',
    });
  });
});
