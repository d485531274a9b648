import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  createHost,
  type Host,
  isPlugboardError,
  type PluginReload,
  type PluginStatusEvent,
} from '@plugboard/core';
import { afterEach, describe, expect, it } from 'vitest';
import { EchoPlugin, sleep, tempDir } from './helpers.js';

const hosts: Host[] = [];
function host(options: Parameters<typeof createHost>[0] = {}) {
  const h = createHost({ env: false, argv: [], ...options });
  hosts.push(h);
  return h;
}
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop()));
});

/** A TypeScript plugin module whose task answers `answer`, after `delayMs` when given. */
function versioned(id: string, answer: string, options: { delayMs?: number; task?: string } = {}): string {
  const task = options.task ?? 'AnswerTask';
  return `
import { ActionPlugin, Task, Type } from '@plugboard/core';
class ${task} extends Task<{}, { answer: string }> {
  async run() {
    ${options.delayMs ? `await new Promise((resolve) => setTimeout(resolve, ${options.delayMs}));` : ''}
    return { answer: '${answer}' };
  }
}
export class Plugin extends ActionPlugin({
  id: '${id}',
  name: 'Answer ${answer}',
  args: Type.Object({}),
  tasks: [${task}],
}) {
  createTasks() {
    return new ${task}({});
  }
}
`;
}

/** Resolves with the next `plugin:reloaded` event that `match` accepts; rejects after `timeoutMs`. */
function nextReload(
  h: Host,
  match: (reload: PluginReload) => boolean = () => true,
  timeoutMs = 5000,
): Promise<PluginReload> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      h.events.off('plugin:reloaded', listener);
      reject(new Error(`no matching plugin:reloaded event within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (reload: PluginReload) => {
      if (!match(reload)) return;
      clearTimeout(timer);
      h.events.off('plugin:reloaded', listener);
      resolve(reload);
    };
    h.events.on('plugin:reloaded', listener);
  });
}

/** Writes a file the way an editor saving it does: a temporary file renamed over the old one. */
function save(file: string, content: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp~`, content);
  renameSync(`${file}.tmp~`, file);
}

async function answer(h: Host, id: string): Promise<unknown> {
  const { tasks } = await h.execute(id);
  return (await h.tasks.wait(tasks[0]!.id)).result;
}

describe('watching plugin folders', () => {
  it('uses the new version of an edited plugin for the next execution, without a restart', async () => {
    const dir = tempDir({ 'answer.ts': versioned('answer', 'one') });
    const h = host({ plugins: { dirs: [dir] }, watch: { debounceMs: 30 } });
    await h.start();
    expect(await answer(h, 'answer')).toEqual({ answer: 'one' });

    const reloaded = nextReload(h);
    save(join(dir, 'answer.ts'), versioned('answer', 'two'));
    const reload = await reloaded;

    expect(reload).toMatchObject({
      source: { type: 'file', location: join(dir, 'answer.ts') },
      trigger: 'watch',
      outcome: 'reloaded',
      reloaded: ['answer'],
      added: [],
      removed: [],
      kept: [],
      problems: [],
    });
    expect(h.plugins.get('answer')).toMatchObject({ name: 'Answer two', status: 'operational' });
    expect(await answer(h, 'answer')).toEqual({ answer: 'two' });
    expect(h.report?.reloads).toEqual([reload]);

    // Written in place this time, to the file that replaced the first one.
    const again = nextReload(h);
    writeFileSync(join(dir, 'answer.ts'), versioned('answer', 'three'));
    await again;
    expect(await answer(h, 'answer')).toEqual({ answer: 'three' });
  });

  it('lets a task that was running finish with the old version', async () => {
    const dir = tempDir({ 'slow.ts': versioned('slow', 'old', { delayMs: 800 }) });
    const h = host({ plugins: { dirs: [dir] }, watch: { debounceMs: 30 } });
    await h.start();
    const started = new Promise((resolve) => h.events.once('task:started', resolve));
    const { tasks } = await h.execute('slow');
    await started;

    const reloaded = nextReload(h);
    save(join(dir, 'slow.ts'), versioned('slow', 'new'));
    await reloaded;
    expect((await h.tasks.get(tasks[0]!.id))?.state).toBe('running');

    expect(await answer(h, 'slow')).toEqual({ answer: 'new' });
    expect(await h.tasks.wait(tasks[0]!.id)).toMatchObject({ state: 'succeeded', result: { answer: 'old' } });
  });

  it('keeps the old version running when the new one has a syntax error, and reports it', async () => {
    const dir = tempDir({ 'answer.ts': versioned('answer', 'good') });
    const file = join(dir, 'answer.ts');
    const h = host({ plugins: { dirs: [dir] }, watch: { debounceMs: 30 } });
    await h.start();
    const errors: Error[] = [];
    h.events.on('error', (error) => errors.push(error));

    const failed = nextReload(h);
    save(file, `${versioned('answer', 'broken')}\nexport const oops = ;\n`);
    const reload = await failed;

    expect(reload).toMatchObject({ outcome: 'failed', reloaded: [], kept: ['answer'] });
    expect(reload.problems).toEqual([
      {
        pluginId: null,
        code: 'PLUGBOARD_PLUGIN_LOAD_FAILED',
        reason: expect.stringMatching(/could not be loaded: .*Fix the module and reload it\.$/s),
      },
    ]);
    expect(h.plugins.get('answer')).toMatchObject({ name: 'Answer good', status: 'operational' });
    expect(await answer(h, 'answer')).toEqual({ answer: 'good' });
    expect(h.plugins.failures()).toEqual([
      {
        source: { type: 'file', location: file },
        code: 'PLUGBOARD_PLUGIN_LOAD_FAILED',
        reason: expect.any(String),
      },
    ]);
    expect(h.report?.reloads.at(-1)).toEqual(reload);

    const fixed = nextReload(h);
    save(file, versioned('answer', 'fixed'));
    expect(await fixed).toMatchObject({ outcome: 'reloaded', reloaded: ['answer'] });
    expect(await answer(h, 'answer')).toEqual({ answer: 'fixed' });
    expect(h.plugins.failures()).toEqual([]);
    // The boot report keeps what the start found; the reloads say what happened since.
    expect(h.report?.failures).toEqual([]);
    expect(h.report?.reloads.map((r) => r.outcome)).toEqual(['failed', 'reloaded']);
    expect(errors).toEqual([]);
  });

  it('adds the plugins of a new file and removes those of a deleted one', async () => {
    const dir = tempDir({ 'first.ts': versioned('first', '1') });
    const h = host({ plugins: { dirs: [dir] }, watch: { debounceMs: 30 } });
    await h.start();
    const statuses: PluginStatusEvent[] = [];
    h.events.on('plugin:status', (event) => statuses.push(event));

    const added = nextReload(h);
    save(join(dir, 'second.ts'), versioned('second', '2'));
    expect(await added).toMatchObject({
      source: { location: join(dir, 'second.ts') },
      outcome: 'reloaded',
      added: ['second'],
      reloaded: [],
    });
    expect(statuses).toEqual([{ id: 'second', status: 'operational', previous: null, reason: null }]);
    expect(await answer(h, 'second')).toEqual({ answer: '2' });

    const removed = nextReload(h);
    rmSync(join(dir, 'second.ts'));
    expect(await removed).toMatchObject({ outcome: 'reloaded', removed: ['second'] });
    expect(h.plugins.get('second')).toBeUndefined();
    await expect(h.execute('second')).rejects.toMatchObject({ code: 'PLUGBOARD_UNKNOWN_PLUGIN' });
    expect(h.plugins.list().map((p) => p.id)).toEqual(['first']);

    const folder = nextReload(h, (r) => r.added.includes('third'));
    save(join(dir, 'third/index.ts'), versioned('third', '3'));
    expect(await folder).toMatchObject({
      source: { location: join(dir, 'third/index.ts') },
      outcome: 'reloaded',
    });
    expect(await answer(h, 'third')).toEqual({ answer: '3' });
  });

  it('reloads a sub-folder plugin when a module it imports changes (TypeScript, through jiti)', async () => {
    const dir = tempDir({
      'greeter/index.ts': `
import { ActionPlugin, Task } from '@plugboard/core';
import { greeting } from './lib/greeting.ts';
class Greet extends Task { run() { return greeting(); } }
export class Greeter extends ActionPlugin({ id: 'greeter', tasks: [Greet] }) {
  createTasks() { return new Greet({}); }
}
`,
      'greeter/lib/greeting.ts': `export const greeting = () => 'hello';\n`,
    });
    const h = host({ plugins: { dirs: [dir] }, watch: { debounceMs: 30 } });
    await h.start();
    expect(await answer(h, 'greeter')).toBe('hello');

    const reloaded = nextReload(h);
    save(join(dir, 'greeter/lib/greeting.ts'), `export const greeting = () => 'bonjour';\n`);
    expect(await reloaded).toMatchObject({
      source: { location: join(dir, 'greeter/index.ts') },
      reloaded: ['greeter'],
    });
    expect(await answer(h, 'greeter')).toBe('bonjour');
  });

  it('reloads a JavaScript module natively', async () => {
    const js = (answer: string) => `
import { ActionPlugin, Task } from '@plugboard/core';
class Say extends Task { run() { return '${answer}'; } }
export class Sayer extends ActionPlugin({ id: 'sayer', tasks: [Say] }) { createTasks() { return new Say({}); } }
`;
    const dir = tempDir({ 'sayer.mjs': js('first') });
    const h = host({ plugins: { dirs: [dir] }, watch: { debounceMs: 30 } });
    await h.start();
    expect(await answer(h, 'sayer')).toBe('first');
    for (const next of ['second', 'third']) {
      const reloaded = nextReload(h);
      save(join(dir, 'sayer.mjs'), js(next));
      await reloaded;
      expect(await answer(h, 'sayer')).toBe(next);
    }
  });

  it('re-arms a background plugin with its new schedule', async () => {
    const background = (delaySeconds: number) => `
import { BackgroundTaskPlugin, Task } from '@plugboard/core';
class Tick extends Task { run() { return 'tick'; } }
export class Ticker extends BackgroundTaskPlugin({ id: 'ticker', delaySeconds: ${delaySeconds}, tasks: [Tick] }) {
  createTasks() { return new Tick({}); }
}
`;
    const dir = tempDir({ 'ticker.ts': background(3600) });
    const h = host({ plugins: { dirs: [dir] }, watch: { debounceMs: 30 } });
    await h.start();
    const [armed] = await h.schedules.list();
    expect(armed).toMatchObject({ id: 'ticker', delaySeconds: 3600 });

    const fired = new Promise((resolve) => h.events.once('schedule:fired', resolve));
    const reloaded = nextReload(h);
    save(join(dir, 'ticker.ts'), background(0.2));
    await reloaded;
    const [rearmed] = await h.schedules.list();
    expect(rearmed).toMatchObject({ id: 'ticker', delaySeconds: 0.2 });
    expect(rearmed!.nextRunAt!).toBeLessThan(armed!.nextRunAt!);
    await expect(fired).resolves.toMatchObject({ id: 'ticker', pluginId: 'ticker' });
  });

  it('keeps a background schedule as stored when the new version says replaceExistingTasks: false', async () => {
    const background = (delaySeconds: number) => `
import { BackgroundTaskPlugin, Task } from '@plugboard/core';
class Tick extends Task { run() { return 'tick'; } }
export class Ticker extends BackgroundTaskPlugin({
  id: 'ticker', delaySeconds: ${delaySeconds}, replaceExistingTasks: false, tasks: [Tick],
}) {
  createTasks() { return new Tick({}); }
}
`;
    const dir = tempDir({ 'ticker.ts': background(3600) });
    const h = host({ plugins: { dirs: [dir] } });
    await h.start();
    const [armed] = await h.schedules.list();
    await h.plugins.reload('ticker');
    const [after] = await h.schedules.list();
    expect(after).toMatchObject({ delaySeconds: 3600, nextRunAt: armed!.nextRunAt });
  });

  it('stops watching on stop() and on unwatch()', async () => {
    const dir = tempDir({ 'answer.ts': versioned('answer', 'one') });
    const h = host({ plugins: { dirs: [dir] } });
    expect(h.plugins.watch({ debounceMs: 20 })).toEqual([dir]);
    await h.start();
    const reloads: PluginReload[] = [];
    h.events.on('plugin:reloaded', (reload) => reloads.push(reload));

    h.plugins.unwatch();
    save(join(dir, 'answer.ts'), versioned('answer', 'two'));
    await sleep(400);
    expect(reloads).toEqual([]);

    expect(h.plugins.watch({ debounceMs: 20 })).toEqual([dir]);
    const reloaded = nextReload(h);
    save(join(dir, 'answer.ts'), versioned('answer', 'three'));
    await reloaded;
    expect(reloads).toHaveLength(1);

    await h.stop();
    save(join(dir, 'answer.ts'), versioned('answer', 'four'));
    await sleep(400);
    expect(reloads).toHaveLength(1);
  });
});

describe('host.plugins.reload()', () => {
  it('resolves with the new info and records the reload as requested', async () => {
    const dir = tempDir({ 'answer.ts': versioned('answer', 'one') });
    const h = host({ plugins: { dirs: [dir] } });
    await h.start();
    save(join(dir, 'answer.ts'), versioned('answer', 'two'));
    const info = await h.plugins.reload('answer');
    expect(info).toMatchObject({ id: 'answer', name: 'Answer two', status: 'operational' });
    expect(h.report?.reloads).toEqual([
      expect.objectContaining({ trigger: 'request', reloaded: ['answer'] }),
    ]);
    expect(await answer(h, 'answer')).toEqual({ answer: 'two' });
  });

  it('rejects with the reason and keeps the old version when the new one is invalid', async () => {
    const dir = tempDir({ 'answer.ts': versioned('answer', 'one') });
    const h = host({ plugins: { dirs: [dir] } });
    await h.start();
    save(
      join(dir, 'answer.ts'),
      versioned('answer', 'two').replace('args: Type.Object({})', 'args: 42 as never'),
    );
    const error = await h.plugins.reload('answer').catch((e: unknown) => e);
    expect(isPlugboardError(error, 'PLUGBOARD_INVALID_SCHEMA')).toBe(true);
    expect((error as Error).message).toMatch(/previous version keeps running/);
    expect(h.report?.reloads.at(-1)).toMatchObject({
      outcome: 'failed',
      kept: ['answer'],
      problems: [{ pluginId: 'answer', code: 'PLUGBOARD_INVALID_SCHEMA' }],
    });
    expect(h.plugins.get('answer')).toMatchObject({ name: 'Answer one', status: 'operational' });
    expect(await answer(h, 'answer')).toEqual({ answer: 'one' });
  });

  it('fails a queued task whose task type the new version no longer has, with a coded error', async () => {
    const dir = tempDir({ 'answer.ts': versioned('answer', 'one', { delayMs: 300 }) });
    const h = host({ plugins: { dirs: [dir] }, concurrency: 1 });
    await h.start();
    const first = (await h.execute('answer')).tasks[0]!;
    const queued = (await h.execute('answer')).tasks[0]!;
    save(join(dir, 'answer.ts'), versioned('answer', 'two', { task: 'RenamedTask' }));
    await h.plugins.reload('answer');

    expect(await h.tasks.wait(first.id)).toMatchObject({ state: 'succeeded', result: { answer: 'one' } });
    expect(await h.tasks.wait(queued.id)).toMatchObject({
      state: 'failed',
      error: { code: 'PLUGBOARD_UNKNOWN_TASK_TYPE', message: expect.stringContaining('answer/AnswerTask') },
    });
    expect(await answer(h, 'answer')).toEqual({ answer: 'two' });
  });

  it('keeps a disabled plugin disabled across a reload', async () => {
    const dir = tempDir({ 'answer.ts': versioned('answer', 'one') });
    const h = host({ plugins: { dirs: [dir] } });
    await h.start();
    await h.plugins.disable('answer');
    save(join(dir, 'answer.ts'), versioned('answer', 'two'));
    expect(await h.plugins.reload('answer')).toMatchObject({ name: 'Answer two', status: 'disabled' });
    expect((await h.plugins.enable('answer')).status).toBe('operational');
    expect(await answer(h, 'answer')).toEqual({ answer: 'two' });
  });

  it('adds the plugins of a module that failed to load at start once it is fixed', async () => {
    const dir = tempDir({ 'answer.ts': 'export const oops = ;' });
    const file = join(dir, 'answer.ts');
    const h = host({ plugins: { dirs: [dir] } });
    const report = await h.start();
    expect(report.failures).toEqual([expect.objectContaining({ code: 'PLUGBOARD_PLUGIN_LOAD_FAILED' })]);

    save(file, versioned('answer', 'one'));
    expect(await h.plugins.reloadFile(file)).toMatchObject({ outcome: 'reloaded', added: ['answer'] });
    expect(h.plugins.failures()).toEqual([]);
    expect(await answer(h, 'answer')).toEqual({ answer: 'one' });
  });

  it('refuses a new module whose plugin id another module already uses, keeping the first', async () => {
    const dir = tempDir({ 'first.ts': versioned('answer', 'first') });
    const h = host({ plugins: { dirs: [dir] } });
    await h.start();
    save(join(dir, 'second.ts'), versioned('answer', 'second'));
    const reload = await h.plugins.reloadFile(join(dir, 'second.ts'));
    expect(reload).toMatchObject({
      outcome: 'failed',
      added: [],
      problems: [{ pluginId: null, code: 'PLUGBOARD_DUPLICATE_PLUGIN_ID' }],
    });
    expect(h.plugins.get('answer')?.source.location).toBe(join(dir, 'first.ts'));
    expect(await answer(h, 'answer')).toEqual({ answer: 'first' });
  });

  it('refuses plugins passed as classes and paths outside the plugin folders', async () => {
    const dir = tempDir({ 'answer.ts': versioned('answer', 'one') });
    const h = host({ plugins: { dirs: [dir], classes: [EchoPlugin] } });
    await h.start();
    await expect(h.plugins.reload('echo')).rejects.toMatchObject({
      code: 'PLUGBOARD_PLUGIN_NOT_RELOADABLE',
      message: expect.stringContaining('plugins.classes'),
    });
    await expect(h.plugins.reloadFile(join(dirname(dir), 'elsewhere.ts'))).rejects.toMatchObject({
      code: 'PLUGBOARD_PLUGIN_NOT_RELOADABLE',
    });
    await expect(h.plugins.reloadFile(join(dir, 'notes.txt'))).rejects.toMatchObject({
      code: 'PLUGBOARD_PLUGIN_NOT_RELOADABLE',
    });
  });

  it('is refused before the start, and the watch option is checked when the host is created', async () => {
    const h = host({ plugins: { dirs: [tempDir()] } });
    await expect(h.plugins.reload('answer')).rejects.toMatchObject({ code: 'PLUGBOARD_HOST_NOT_STARTED' });
    expect(() => host({ watch: 'yes' as never })).toThrow(
      expect.objectContaining({
        code: 'PLUGBOARD_INVALID_OPTION',
        message: expect.stringContaining('`watch`'),
      }),
    );
    expect(() => host({ watch: { debounceMs: -1 } })).toThrow(
      expect.objectContaining({
        message: 'Expected `watch.debounceMs` to be a number >= 0, got `-1` (number).',
      }),
    );
  });
});
