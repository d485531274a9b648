import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import {
  ActionPlugin,
  createHost,
  definePluginPoint,
  memoryStore,
  type PluginStatusEvent,
  PointPlugin,
  Task,
  Type,
} from '@plugboard/core';
import { afterEach, describe, expect, it } from 'vitest';
import { EchoPlugin, pluginModule, sleep, tempDir } from './helpers.js';

const hosts: Array<ReturnType<typeof createHost>> = [];
function host(options: Parameters<typeof createHost>[0] = {}) {
  const h = createHost({ env: false, argv: [], ...options });
  hosts.push(h);
  return h;
}
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop()));
});

describe('discovery', () => {
  it('loads every exported plugin class from a folder, whatever the file and class names', async () => {
    const dir = tempDir({
      'anything.mjs': pluginModule('alpha') + pluginModule('beta').replace(/^import.*$/m, ''),
      'sub/package.json': JSON.stringify({ name: 'sub', main: 'entry.js', type: 'module' }),
      'sub/entry.js': pluginModule('gamma'),
      'zeta/index.mjs': pluginModule('delta'),
      'cjs-plugin.cjs': `
const { ActionPlugin, Task } = require('@plugboard/core');
class T extends Task { run() { return 1; } }
module.exports = class Whatever extends ActionPlugin({ id: 'from-cjs', name: 'CJS', tasks: [T] }) { createTasks() { return []; } };
`,
    });
    const h = host({ plugins: { dirs: [dir] } });
    const report = await h.start();
    expect(report.failures).toEqual([]);
    expect(h.plugins.list().map((p) => [p.id, p.status])).toEqual(
      expect.arrayContaining([
        ['alpha', 'operational'],
        ['beta', 'operational'],
        ['gamma', 'operational'],
        ['delta', 'operational'],
      ]),
    );
    expect(h.plugins.get('alpha')?.source).toEqual({ type: 'file', location: join(dir, 'anything.mjs') });
  });

  it('loads TypeScript plugin files through jiti', async () => {
    const dir = tempDir({
      'typed.ts': `
import { ActionPlugin, Task, Type, type Static, type TaskContext } from '@plugboard/core';
const Args = Type.Object({ n: Type.Integer() });
class Double extends Task<{ n: number }, number> {
  run(_ctx: TaskContext): number { return this.input.n * 2; }
}
export class Doubler extends ActionPlugin({ id: 'doubler', name: 'Doubler', args: Args, tasks: [Double] }) {
  createTasks(args: Static<typeof Args>) { return new Double({ n: args.n }); }
}
`,
    });
    const h = host({ plugins: { dirs: [dir] } });
    await h.start();
    expect(h.plugins.get('doubler')?.status).toBe('operational');
    const { tasks } = await h.execute('doubler', { n: 21 });
    expect((await h.tasks.wait(tasks[0]!.id)).result).toBe(42);
  });

  it('reports a file with a syntax error and starts the other plugins', async () => {
    const dir = tempDir({ 'broken.mjs': 'export const = ;', 'good.mjs': pluginModule('good') });
    const h = host({ plugins: { dirs: [dir] } });
    const report = await h.start();
    expect(h.plugins.get('good')?.status).toBe('operational');
    expect(report.failures).toEqual([
      expect.objectContaining({
        source: { type: 'file', location: join(dir, 'broken.mjs') },
        code: 'PLUGBOARD_PLUGIN_LOAD_FAILED',
        reason: expect.stringContaining('broken.mjs` could not be loaded'),
      }),
    ]);
  });

  it('reports a module that throws on import', async () => {
    const dir = tempDir({
      'throws.mjs': "throw new Error('database unreachable');",
      'good.mjs': pluginModule('good'),
    });
    const h = host({ plugins: { dirs: [dir] } });
    const report = await h.start();
    expect(report.failures[0]).toMatchObject({
      code: 'PLUGBOARD_PLUGIN_LOAD_FAILED',
      reason: expect.stringContaining('database unreachable'),
    });
    expect(h.plugins.get('good')?.status).toBe('operational');
  });

  it('cuts off a module whose top-level await never settles', async () => {
    const dir = tempDir({ 'hangs.mjs': 'await new Promise(() => {});', 'good.mjs': pluginModule('good') });
    const h = host({ plugins: { dirs: [dir], loadTimeoutMs: 200 } });
    const report = await h.start();
    expect(report.failures[0]).toMatchObject({ code: 'PLUGBOARD_PLUGIN_LOAD_TIMEOUT' });
    expect(report.failures[0]?.reason).toContain('did not finish loading within 200 ms');
    expect(h.plugins.get('good')?.status).toBe('operational');
  });

  it('ignores files that are not modules and notes them in the boot report', async () => {
    const dir = tempDir({
      'README.md': '# notes',
      'data.json': '{}',
      'types.d.ts': 'export {};',
      'ok.mjs': pluginModule('ok'),
    });
    const report = await host({ plugins: { dirs: [dir] } }).start();
    expect(report.notes.map((n) => [n.location.slice(dir.length + 1), n.message])).toEqual([
      ['README.md', 'ignored: not a JavaScript or TypeScript module'],
      ['data.json', 'ignored: not a JavaScript or TypeScript module'],
      ['types.d.ts', 'ignored: not a JavaScript or TypeScript module'],
    ]);
    expect(report.plugins.map((p) => p.id)).toEqual(['ok']);
  });

  it('does not follow a symbolic link out of the plugin folder unless the host allows it', async () => {
    const outside = tempDir({ 'evil.mjs': pluginModule('outsider') });
    const dir = tempDir({ 'ok.mjs': pluginModule('ok') });
    symlinkSync(join(outside, 'evil.mjs'), join(dir, 'link.mjs'));
    const strict = await host({ plugins: { dirs: [dir] } }).start();
    expect(strict.plugins.map((p) => p.id)).toEqual(['ok']);
    expect(strict.notes[0]?.message).toContain('outside the plugin folder');
    const relaxed = await host({ plugins: { dirs: [dir], followSymlinks: true } }).start();
    expect(relaxed.plugins.map((p) => p.id).sort()).toEqual(['ok', 'outsider']);
  });

  it('does not follow a symbolic link to a folder outside the plugin folder unless the host allows it', async () => {
    const outside = tempDir({ 'pkg/index.mjs': pluginModule('outsider') });
    const dir = tempDir({ 'ok.mjs': pluginModule('ok') });
    symlinkSync(join(outside, 'pkg'), join(dir, 'linked-folder'));
    const strict = await host({ plugins: { dirs: [dir] } }).start();
    expect(strict.plugins.map((p) => p.id)).toEqual(['ok']);
    expect(strict.notes).toEqual([
      {
        location: join(dir, 'linked-folder'),
        message: expect.stringMatching(/^ignored: a symbolic link to `.*pkg`, outside the plugin folder/),
      },
    ]);
    const relaxed = await host({ plugins: { dirs: [dir], followSymlinks: true } }).start();
    expect(relaxed.plugins.map((p) => p.id).sort()).toEqual(['ok', 'outsider']);
  });

  it('does not load a folder whose package.json entry points outside the plugin folder', async () => {
    const outside = tempDir({ 'evil.mjs': pluginModule('escaped') });
    const dir = tempDir({
      'ok.mjs': pluginModule('ok'),
      'sneaky/package.json': JSON.stringify({
        name: 'sneaky',
        type: 'module',
        main: `../../${outside.split('/').at(-1)}/evil.mjs`,
      }),
    });
    const strict = await host({ plugins: { dirs: [dir] } }).start();
    expect(strict.plugins.map((p) => p.id)).toEqual(['ok']);
    expect(strict.notes).toEqual([
      {
        location: join(dir, 'sneaky'),
        message: expect.stringMatching(/^ignored: its entry `.*evil\.mjs` is outside the plugin folder/),
      },
    ]);
    const relaxed = await host({ plugins: { dirs: [dir], followSymlinks: true } }).start();
    expect(relaxed.plugins.map((p) => p.id).sort()).toEqual(['escaped', 'ok']);
  });

  it('loads a module reached twice through a link inside the folder once', async () => {
    const dir = tempDir({ 'ok.mjs': pluginModule('ok') });
    symlinkSync(join(dir, 'ok.mjs'), join(dir, 'alias.mjs'));
    const report = await host({ plugins: { dirs: [dir] } }).start();
    expect(report.failures).toEqual([]);
    expect(report.plugins.map((p) => p.id)).toEqual(['ok']);
  });

  it('notes a broken link, a folder without an entry and a module without plugins, and starts the rest', async () => {
    const dir = tempDir({
      'ok.mjs': pluginModule('ok'),
      'empty-folder/readme.txt': 'nothing to load',
      'helpers.mjs': 'export const answer = 42;',
    });
    symlinkSync(join(dir, 'gone.mjs'), join(dir, 'dangling.mjs'));
    const report = await host({ plugins: { dirs: [dir] } }).start();
    expect(report.plugins.map((p) => p.id)).toEqual(['ok']);
    expect(report.failures).toEqual([]);
    expect(report.notes.map((n) => [n.location.slice(dir.length + 1), n.message])).toEqual([
      ['dangling.mjs', 'ignored: a symbolic link whose target does not exist'],
      ['empty-folder', 'ignored: a folder with no package.json entry and no index module'],
      ['helpers.mjs', 'loaded, but it exports no plugin class'],
    ]);
  });

  it('notes a plugin folder that does not exist and still starts', async () => {
    const report = await host({
      plugins: { dirs: ['/nonexistent/plugboard-plugins'], classes: [EchoPlugin] },
    }).start();
    expect(report.notes[0]?.message).toContain('plugin folder not found');
    expect(report.plugins.map((p) => p.id)).toEqual(['echo']);
  });

  it('loads installed packages that declare themselves Plugboard plugins', async () => {
    const cwd = tempDir({
      'package.json': JSON.stringify({
        name: 'host',
        dependencies: { 'pb-plugin-x': '1.0.0', 'not-a-plugin': '1.0.0' },
      }),
      'node_modules/pb-plugin-x/package.json': JSON.stringify({
        name: 'pb-plugin-x',
        type: 'module',
        plugboard: { plugins: './plugin.js' },
      }),
      'node_modules/pb-plugin-x/plugin.js': pluginModule('from-package'),
      'node_modules/not-a-plugin/package.json': JSON.stringify({ name: 'not-a-plugin', main: 'index.js' }),
      'node_modules/not-a-plugin/index.js': 'throw new Error("must not be loaded")',
    });
    const report = await host({ cwd, plugins: { packages: true } }).start();
    expect(report.failures).toEqual([]);
    expect(report.plugins).toEqual([
      expect.objectContaining({
        id: 'from-package',
        status: 'operational',
        source: { type: 'package', location: 'pb-plugin-x' },
      }),
    ]);
  });

  it('reports a value in plugins.classes that is not a plugin class', async () => {
    class NotAPlugin {}
    const report = await host({ plugins: { classes: [NotAPlugin as never, EchoPlugin] } }).start();
    expect(report.failures[0]).toMatchObject({
      code: 'PLUGBOARD_INVALID_PLUGIN',
      reason: expect.stringContaining(
        '`NotAPlugin` in plugins.classes does not extend a Plugboard base class',
      ),
    });
  });
});

describe('validation', () => {
  class T extends Task {
    run() {
      return null;
    }
  }

  it('keeps the first of two plugins with the same id and reports the second', async () => {
    class First extends ActionPlugin({ id: 'same', name: 'First', tasks: [T] }) {
      createTasks() {}
    }
    class Second extends ActionPlugin({ id: 'same', name: 'Second', tasks: [T] }) {
      createTasks() {}
    }
    const h = host({ plugins: { classes: [First, Second] } });
    const report = await h.start();
    expect(h.plugins.get('same')?.name).toBe('First');
    expect(report.failures).toEqual([
      expect.objectContaining({
        code: 'PLUGBOARD_DUPLICATE_PLUGIN_ID',
        reason: expect.stringContaining('Plugin id `same` of `Second`'),
      }),
    ]);
  });

  it('refuses ids with path or HTML characters', async () => {
    const bad = ['../etc', '<script>', 'a/b', '', 'x'.repeat(65)].map((id) => {
      return class extends ActionPlugin({ id, name: 'bad', tasks: [T] }) {
        createTasks() {}
      };
    });
    const report = await host({ plugins: { classes: bad } }).start();
    expect(report.plugins).toEqual([]);
    expect(report.failures).toHaveLength(5);
    for (const failure of report.failures) {
      expect(failure.code).toBe('PLUGBOARD_INVALID_PLUGIN');
      expect(failure.reason).toMatch(/has an invalid id .*use 1 to 64 letters/);
    }
  });

  it('marks a plugin whose schema is not a valid object schema invalid', async () => {
    class BadSchema extends ActionPlugin({
      id: 'bad-schema',
      name: 'Bad',
      args: { type: 'strnig' } as never,
      tasks: [T],
    }) {
      createTasks() {}
    }
    const h = host({ plugins: { classes: [BadSchema, EchoPlugin] } });
    await h.start();
    expect(h.plugins.get('bad-schema')).toMatchObject({
      status: 'invalid',
      code: 'PLUGBOARD_INVALID_SCHEMA',
      reason: expect.stringContaining('The `args` schema of plugin `bad-schema` is not usable'),
    });
    expect(h.plugins.get('echo')?.status).toBe('operational');
  });

  it('marks a plugin that needs another host version invalid', async () => {
    class Future extends ActionPlugin({ id: 'future', name: 'Future', hostVersion: '>=99.0.0', tasks: [T] }) {
      createTasks() {}
    }
    const h = host({ plugins: { classes: [Future] } });
    await h.start();
    expect(h.plugins.get('future')).toMatchObject({
      status: 'invalid',
      code: 'PLUGBOARD_HOST_VERSION_MISMATCH',
      reason: expect.stringContaining('needs @plugboard/core >=99.0.0'),
    });
  });

  it('marks a plugin whose constructor throws failed', async () => {
    class Explodes extends ActionPlugin({ id: 'explodes', name: 'Explodes', tasks: [T] }) {
      constructor() {
        super();
        throw new Error('no config');
      }
      createTasks() {}
    }
    const h = host({ plugins: { classes: [Explodes, EchoPlugin] } });
    await h.start();
    expect(h.plugins.get('explodes')).toMatchObject({
      status: 'failed',
      code: 'PLUGBOARD_PLUGIN_CONSTRUCT_FAILED',
      reason: 'The constructor of plugin `explodes` threw: no config.',
    });
  });

  it('marks a plugin that lists something other than a Task class in tasks invalid', async () => {
    class Odd extends ActionPlugin({ id: 'odd', name: 'Odd', tasks: [class NotATask {}] as never }) {
      createTasks() {}
    }
    const h = host({ plugins: { classes: [Odd] } });
    await h.start();
    expect(h.plugins.get('odd')?.reason).toContain('every entry of `tasks` must be a class extending Task');
  });
});

describe('app properties and command-line flags', () => {
  const Props = Type.Object({
    root: Type.String({ minLength: 1 }),
    depth: Type.Integer({ minimum: 1, default: 3 }),
    verbose: Type.Boolean({ default: false }),
  });
  class Snapshot extends Task<{ properties: unknown; flags: unknown }> {
    run() {
      return this.input;
    }
  }
  class Scanner extends ActionPlugin({
    id: 'media-scan',
    name: 'Scan',
    properties: Props,
    flags: Type.Object({
      dryRun: Type.Boolean({ default: false }),
      limit: Type.Optional(Type.Integer({ minimum: 1 })),
    }),
    tasks: [Snapshot],
  }) {
    createTasks() {
      return new Snapshot({ properties: this.properties, flags: this.flags });
    }
  }

  /** What the plugin sees as `this.properties` and `this.flags`. */
  async function resolved(h: ReturnType<typeof createHost>) {
    const { tasks } = await h.execute('media-scan', {});
    return (await h.tasks.wait(tasks[0]!.id)).result as { properties: unknown; flags: unknown };
  }

  it('is not operational until a required property is set, and says which and how', async () => {
    const h = host({ plugins: { classes: [Scanner] } });
    await h.start();
    expect(h.plugins.get('media-scan')).toMatchObject({
      status: 'invalid',
      code: 'PLUGBOARD_INVALID_PROPERTIES',
    });
    expect(h.plugins.get('media-scan')?.reason).toContain('`/root` is required');
  });

  it('applies defaults, then host values, then the JSON file, then environment variables', async () => {
    const dir = tempDir({ 'props.json': JSON.stringify({ 'media-scan': { root: '/from-file', depth: 5 } }) });
    const h = host({
      plugins: { classes: [Scanner] },
      properties: { 'media-scan': { root: '/from-code', depth: 2, verbose: true } },
      propertiesFile: join(dir, 'props.json'),
      env: { PLUGBOARD_MEDIA_SCAN__DEPTH: '7' },
    });
    await h.start();
    expect(h.plugins.get('media-scan')?.status).toBe('operational');
    expect((await resolved(h)).properties).toEqual({ root: '/from-file', depth: 7, verbose: true });
  });

  it('reports an environment variable with a value of the wrong type', async () => {
    const h = host({
      plugins: { classes: [Scanner] },
      env: { PLUGBOARD_MEDIA_SCAN__ROOT: '/x', PLUGBOARD_MEDIA_SCAN__DEPTH: 'deep' },
    });
    await h.start();
    expect(h.plugins.get('media-scan')).toMatchObject({
      status: 'invalid',
      code: 'PLUGBOARD_INVALID_PROPERTIES',
    });
    expect(h.plugins.get('media-scan')?.reason).toContain('`/depth`');
  });

  it('stops the start with a coded error when a configured properties file is missing', async () => {
    const h = host({ plugins: { classes: [Scanner] }, propertiesFile: '/nonexistent/plugboard.json' });
    await expect(h.start()).rejects.toMatchObject({ code: 'PLUGBOARD_INVALID_OPTION' });
  });

  it('parses start-up flags named --<plugin id>.<flag> from argv and validates them', async () => {
    const h = host({
      plugins: { classes: [Scanner] },
      properties: { 'media-scan': { root: '/r' } },
      argv: ['serve', '--port', '80', '--media-scan.dryRun', '--media-scan.limit', '20'],
    });
    await h.start();
    expect((await resolved(h)).flags).toEqual({ dryRun: true, limit: 20 });

    const bad = host({
      plugins: { classes: [Scanner] },
      properties: { 'media-scan': { root: '/r' } },
      argv: ['--media-scan.limit', '0'],
    });
    await bad.start();
    expect(bad.plugins.get('media-scan')).toMatchObject({
      status: 'invalid',
      code: 'PLUGBOARD_INVALID_FLAGS',
    });
    expect(bad.plugins.get('media-scan')?.reason).toContain('`--media-scan.limit` must be >= 1');
  });
});

describe('readiness', () => {
  class T extends Task {
    run() {
      return null;
    }
  }
  const make = (id: string, isReady: () => unknown) =>
    class extends ActionPlugin({ id, name: id, tasks: [T] }) {
      createTasks() {}
      override isReady() {
        return isReady() as never;
      }
    };

  it('gives every plugin one named state with a reason a person can act on', async () => {
    const h = host({
      readinessTimeoutMs: 150,
      plugins: {
        classes: [
          make('ready', () => true),
          make('async-ready', async () => ({ ready: true })),
          make('not-ready', () => ({
            ready: false,
            reason: 'Set the `root` property to an existing folder.',
          })),
          make('false', () => false),
          make('throws', () => {
            throw new Error('cannot reach the index');
          }),
          make('hangs', () => new Promise(() => {})),
          make('too-late', () => sleep(400).then(() => true)),
        ],
      },
    });
    const report = await h.start();
    const byId = Object.fromEntries(report.plugins.map((p) => [p.id, p]));
    expect(byId.ready).toMatchObject({ status: 'operational', reason: null });
    expect(byId['async-ready']).toMatchObject({ status: 'operational' });
    expect(byId['not-ready']).toMatchObject({
      status: 'not-ready',
      code: 'PLUGBOARD_NOT_READY',
      reason: 'Set the `root` property to an existing folder.',
    });
    expect(byId.false).toMatchObject({
      status: 'not-ready',
      reason: 'isReady() reported the plugin is not ready.',
    });
    expect(byId.throws).toMatchObject({
      status: 'failed',
      code: 'PLUGBOARD_READINESS_FAILED',
      reason: 'The readiness check threw: cannot reach the index.',
    });
    for (const id of ['hangs', 'too-late']) {
      expect(byId[id]).toMatchObject({ status: 'not-ready', code: 'PLUGBOARD_READINESS_TIMEOUT' });
      expect(byId[id]?.reason).toContain('did not settle within 150 ms');
    }
    expect(byId.ready?.timings).toEqual({
      loadMs: 0,
      validateMs: expect.any(Number),
      readinessMs: expect.any(Number),
    });
    expect(byId.hangs!.timings.readinessMs).toBeGreaterThanOrEqual(140);
  });

  it("bounds a readiness check by the plugin's own readinessTimeoutMs over the host's", async () => {
    const own = (id: string, readinessTimeoutMs: number, isReady: () => unknown) =>
      class extends ActionPlugin({ id, name: id, tasks: [T], readinessTimeoutMs }) {
        createTasks() {}
        override isReady() {
          return isReady() as never;
        }
      };
    const h = host({
      readinessTimeoutMs: 150,
      plugins: {
        classes: [
          // Shorter than the host's: reported at its own limit.
          own('impatient', 40, () => new Promise(() => {})),
          // Longer than the host's: a check that takes 400 ms still makes it operational.
          own('patient', 3000, () => sleep(400).then(() => true)),
        ],
      },
    });
    const report = await h.start();
    const byId = Object.fromEntries(report.plugins.map((p) => [p.id, p]));
    expect(byId.impatient).toMatchObject({
      status: 'not-ready',
      code: 'PLUGBOARD_READINESS_TIMEOUT',
      reason: 'The readiness check did not settle within 40 ms; check what isReady() waits for.',
    });
    expect(byId.patient).toMatchObject({ status: 'operational', reason: null });
  });

  it('lists plugins with status `checking` before their readiness checks finish', async () => {
    let release!: () => void;
    const gate = new Promise<boolean>((resolve) => {
      release = () => resolve(true);
    });
    const h = host({ plugins: { classes: [make('slow', () => gate)] } });
    const starting = h.start();
    await sleep(50);
    expect(h.plugins.list()).toEqual([
      expect.objectContaining({ id: 'slow', status: 'checking', name: 'slow' }),
    ]);
    release();
    await starting;
    expect(h.plugins.get('slow')?.status).toBe('operational');
  });

  it('rechecks a not-ready plugin on request', async () => {
    let ok = false;
    const h = host({ plugins: { classes: [make('later', () => ok)] } });
    await h.start();
    expect(h.plugins.get('later')?.status).toBe('not-ready');
    ok = true;
    expect((await h.plugins.recheck('later')).status).toBe('operational');
  });

  it('emits plugin:status for every plugin at start and on changes', async () => {
    const h = host({ plugins: { classes: [EchoPlugin] } });
    const events: PluginStatusEvent[] = [];
    h.events.on('plugin:status', (e) => events.push(e));
    await h.start();
    await h.plugins.disable('echo');
    await h.plugins.enable('echo');
    expect(events).toEqual([
      { id: 'echo', status: 'operational', previous: null, reason: null },
      {
        id: 'echo',
        status: 'disabled',
        previous: 'operational',
        reason: expect.stringContaining('disabled'),
      },
      { id: 'echo', status: 'operational', previous: 'disabled', reason: null },
    ]);
  });
});

describe('enable and disable', () => {
  it('refuses to execute a disabled plugin and keeps it disabled on the next start with the same store', async () => {
    const store = memoryStore();
    const first = host({ plugins: { classes: [EchoPlugin] }, store });
    await first.start();
    await first.plugins.disable('echo');
    await expect(first.execute('echo', { text: 'x' })).rejects.toMatchObject({
      code: 'PLUGBOARD_PLUGIN_DISABLED',
    });
    await first.stop();
    const second = host({ plugins: { classes: [EchoPlugin] }, store });
    await second.start();
    expect(second.plugins.get('echo')).toMatchObject({
      status: 'disabled',
      code: 'PLUGBOARD_PLUGIN_DISABLED',
    });
    await second.plugins.enable('echo');
    expect(second.plugins.get('echo')?.status).toBe('operational');
    expect((await store.getPluginEntry('echo'))?.enabled).toBe(true);
  });
});

describe('the host lifecycle', () => {
  it('refuses a second start and work before start or after stop', async () => {
    const h = host({ plugins: { classes: [EchoPlugin] } });
    await expect(h.execute('echo', { text: 'x' })).rejects.toMatchObject({
      code: 'PLUGBOARD_HOST_NOT_STARTED',
    });
    await h.start();
    await expect(h.start()).rejects.toMatchObject({ code: 'PLUGBOARD_HOST_ALREADY_STARTED' });
    await h.stop();
    expect(h.state).toBe('stopped');
    await expect(h.execute('echo', { text: 'x' })).rejects.toMatchObject({ code: 'PLUGBOARD_HOST_STOPPING' });
  });

  it('checks its options when it is created', () => {
    expect(() => createHost({ concurrency: 0 })).toThrow(
      'Expected `concurrency` to be an integer >= 1, got `0` (number).',
    );
    expect(() => createHost({ readinessTimeoutMs: -1 })).toThrow(
      'Expected `readinessTimeoutMs` to be a number >= 1, got `-1` (number).',
    );
    expect(() => createHost({ logLevel: 'loud' as never })).toThrow(
      /Expected `logLevel` to be one of debug, info/,
    );
    expect(() => createHost({ plugins: { dirs: [''] } })).toThrow(
      /Expected every `plugins.dirs` entry to be a folder path/,
    );
  });

  it('returns a boot report with per-plugin timings, the store and the runtime', async () => {
    const dir = tempDir({ 'a.mjs': pluginModule('a') });
    const report = await host({ plugins: { dirs: [dir] } }).start();
    expect(report).toMatchObject({ store: 'memory', runtime: 'in-process', failures: [], notes: [] });
    expect(report.durationMs).toBeGreaterThan(0);
    expect(report.plugins[0]?.timings.loadMs).toBeGreaterThan(0);
  });

  it('keeps a plugin that only implements plugin points out of execution and returns it from points.get', async () => {
    interface Reporter {
      report(events: readonly string[]): string;
    }
    const Reporting = definePluginPoint<Reporter>({ id: 'event-reporting', methods: ['report'] });
    class CountReporter
      extends PointPlugin({ id: 'count-report', name: 'Count', implements: [Reporting] })
      implements Reporter
    {
      report(events: readonly string[]) {
        return `${events.length} events`;
      }
    }
    class Broken extends PointPlugin({ id: 'broken-report', name: 'Broken', implements: [Reporting] }) {}
    const h = host({ plugins: { classes: [CountReporter, Broken] } });
    await h.start();
    expect(h.points.get(Reporting).map((r) => r.report(['a', 'b']))).toEqual(['2 events']);
    expect(h.plugins.get('broken-report')).toMatchObject({
      status: 'invalid',
      code: 'PLUGBOARD_MISSING_POINT_METHOD',
      reason:
        'Plugin `broken-report` implements plugin point `event-reporting` but has no `report()` method.',
    });
  });
});
