import {
  ActionPlugin,
  BackgroundTaskPlugin,
  createHost,
  type Host,
  type PluginClass,
  Task,
  type TaskContext,
  Type,
} from '@plugboard/core';
import { sqliteStore } from '@plugboard/sqlite';
import { FakeClock } from '@plugboard/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ChattyPlugin, DoublePlugin } from './fixtures/crash-plugins.js';
import { tempDatabaseFolder } from './temp-db.js';

const folder = tempDatabaseFolder('plugboard-restart-');
afterAll(() => folder.remove());

const hosts: Host[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop({ timeoutMs: 100 })));
});

class GreetTask extends Task<{ name: string }, { greeting: string }> {
  run(ctx: TaskContext) {
    ctx.log.info(`looking up ${this.input.name}`);
    ctx.progress(50, 'half way');
    ctx.log.warn('greeting is informal');
    ctx.status('greeted');
    return { greeting: `Hello ${this.input.name}` };
  }
}

class GreetPlugin extends ActionPlugin({
  id: 'greet',
  name: 'Greet',
  args: Type.Object({ name: Type.String() }),
  tasks: [GreetTask],
}) {
  createTasks(args: { name: string }) {
    return new GreetTask(args);
  }
}

class TidyTask extends Task<Record<string, never>, { tidied: true }> {
  run() {
    return { tidied: true as const };
  }
}

class TidyPlugin extends BackgroundTaskPlugin({
  id: 'tidy',
  name: 'Tidy up',
  delaySeconds: 10,
  repeatSeconds: 60,
  tasks: [TidyTask],
}) {
  createTasks() {
    return new TidyTask({});
  }
}

const plugins: PluginClass[] = [GreetPlugin, TidyPlugin, ChattyPlugin, DoublePlugin];

async function startHost(path: string, options: { clock?: FakeClock; concurrency?: number } = {}) {
  const host = createHost({
    env: false,
    argv: [],
    store: sqliteStore({ path }),
    clock: options.clock ?? new FakeClock(),
    concurrency: options.concurrency,
    progressIntervalMs: 0,
    plugins: { classes: plugins },
  });
  hosts.push(host);
  await host.start();
  return host;
}

async function stop(host: Host, timeoutMs = 1000) {
  await host.stop({ timeoutMs });
  hosts.splice(hosts.indexOf(host), 1);
}

describe('a host restarted on the same SQLite file', () => {
  it('keeps task history and logs', async () => {
    const path = folder.file();
    const first = await startHost(path);
    const users = [{ id: 'alice' }, { id: 'bob' }, { id: 'alice' }];
    const created = [];
    for (const [i, user] of users.entries()) {
      const { tasks } = await first.execute('greet', { name: `N${i}` }, { user });
      created.push(await first.tasks.wait(tasks[0]!.id));
    }
    const history = await first.tasks.list({});
    const logs = await Promise.all(created.map((t) => first.tasks.logs(t.id)));
    await stop(first);

    const second = await startHost(path);
    expect(await second.tasks.list({})).toEqual(history);
    expect(await Promise.all(created.map((t) => second.tasks.logs(t.id)))).toEqual(logs);
    expect(created.map((t) => t.result)).toEqual([
      { greeting: 'Hello N0' },
      { greeting: 'Hello N1' },
      { greeting: 'Hello N2' },
    ]);
    expect((await second.tasks.get(created[1]!.id))?.statusText).toBe('greeted');
    expect((await second.tasks.list({ user: 'alice' })).items).toHaveLength(2);
    expect(logs[0]!.map((l) => [l.seq, l.level, l.message])).toEqual([
      [1, 'info', 'looking up N0'],
      [2, 'warn', 'greeting is informal'],
    ]);
    expect(second.report?.recovery).toEqual({ interrupted: 0, requeued: 0, resumed: 0 });
  });

  it('keeps every plugin in the catalogue, with when it was first seen', async () => {
    const path = folder.file();
    const clock = new FakeClock(Date.parse('2030-01-01T00:00:00Z'));
    const first = await startHost(path, { clock });
    const catalogue = await first.store.listPluginEntries();
    expect(catalogue.map((e) => [e.id, e.enabled, e.lastStatus])).toEqual([
      ['greet', true, 'operational'],
      ['tidy', true, 'operational'],
      ['chatty', true, 'operational'],
      ['double', true, 'operational'],
    ]);
    await stop(first);

    const later = new FakeClock(Date.parse('2030-02-01T00:00:00Z'));
    const second = await startHost(path, { clock: later });
    const reread = await second.store.listPluginEntries();
    expect(reread.map((e) => e.id)).toEqual(catalogue.map((e) => e.id));
    for (const entry of reread) {
      expect(entry.firstSeenAt).toBe(clock.now());
      expect(entry.lastSeenAt).toBe(later.now());
    }
  });

  it('a disabled plugin is still disabled after the restart, until an administrator enables it', async () => {
    const path = folder.file();
    const first = await startHost(path);
    await first.plugins.disable('greet');
    await stop(first);

    const second = await startHost(path);
    expect(second.plugins.get('greet')).toMatchObject({
      status: 'disabled',
      code: 'PLUGBOARD_PLUGIN_DISABLED',
    });
    await expect(second.execute('greet', { name: 'x' })).rejects.toMatchObject({
      code: 'PLUGBOARD_PLUGIN_DISABLED',
    });
    expect(await second.store.getPluginEntry('greet')).toMatchObject({
      enabled: false,
      lastStatus: 'disabled',
    });
    await second.plugins.enable('greet');
    expect(second.plugins.get('greet')?.status).toBe('operational');
    await stop(second);

    const third = await startHost(path);
    expect(third.plugins.get('greet')?.status).toBe('operational');
  });

  it('a disabled background plugin is not scheduled after the restart', async () => {
    const path = folder.file();
    const first = await startHost(path);
    await first.plugins.disable('tidy');
    await stop(first);

    const clock = new FakeClock();
    const second = await startHost(path, { clock });
    expect(second.plugins.get('tidy')?.status).toBe('disabled');
    await clock.advance(120_000);
    expect((await second.tasks.list({ plugin: 'tidy' })).items).toEqual([]);
  });

  it('tasks still queued at a clean stop run after the restart; the one cut off is interrupted', async () => {
    const path = folder.file();
    const first = await startHost(path, { concurrency: 1 });
    const { tasks: running } = await first.execute('chatty', { label: 'slow', intervalMs: 5 });
    const queued = [];
    for (const n of [5, 6]) queued.push((await first.execute('double', { n })).tasks[0]!);
    await new Promise((resolve) => setTimeout(resolve, 30));
    await stop(first, 20);

    const second = await startHost(path);
    expect(second.report?.recovery).toEqual({ interrupted: 0, requeued: 0, resumed: 2 });
    expect(await second.tasks.get(running[0]!.id)).toMatchObject({ state: 'interrupted' });
    const done = await Promise.all(queued.map((t) => second.tasks.wait(t.id)));
    expect(done.map((t) => [t.state, t.result])).toEqual([
      ['succeeded', { doubled: 10 }],
      ['succeeded', { doubled: 12 }],
    ]);
  });
});
