import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  ActionPlugin,
  createHost,
  isPluginClass,
  PLUGBOARD_VERSION,
  type PluginClass,
  satisfiesRange,
} from '@plugboard/core';
import { createTestHost, runPlugin, runTask } from '@plugboard/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildIfStale } from '../../../test/package-builds.js';
import { PLUGIN_ID_PATTERN } from '../src/names.js';
import { TOOLCHAIN } from '../src/template.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const bin = join(root, 'packages/create-plugboard-plugin/dist/cli.js');
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const work = join(root, '.tmp/tests/create-plugboard-plugin');

function create(args: readonly string[], cwd = work) {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) =>
      entry.isDirectory()
        ? filesUnder(join(dir, entry.name), `${prefix}${entry.name}/`)
        : [`${prefix}${entry.name}`],
    )
    .sort();
}

beforeAll(() => {
  // The bin runs as a real process; tsc reads the built declarations of core and testing.
  buildIfStale('create-plugboard-plugin', 'cli.js');
  buildIfStale('core');
  buildIfStale('testing');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
}, 120_000);

describe('npm create plugboard-plugin', () => {
  it('writes a package whose plugin runs, whose test passes and which type-checks', async () => {
    const { code, stdout, stderr } = create(['plugboard-plugin-word-count']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('Created the plugin `word-count` (package plugboard-plugin-word-count)');
    expect(stdout).toContain('cd plugboard-plugin-word-count\n  npm install\n  npm test');

    const dir = join(work, 'plugboard-plugin-word-count');
    expect(filesUnder(dir)).toEqual([
      '.gitignore',
      'README.md',
      'package.json',
      'src/index.ts',
      'test/plugin.test.ts',
      'tsconfig.build.json',
      'tsconfig.json',
    ]);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const range = `>=${PLUGBOARD_VERSION} <1.0.0`;
    // The next minor and patch of a 0.x release are accepted, as the SDK's own packages accept them.
    const [major, minor, patch] = PLUGBOARD_VERSION.split('.').map(Number) as [number, number, number];
    expect(satisfiesRange(`${major}.${minor + 1}.0`, range)).toBe(true);
    expect(satisfiesRange(`${major}.${minor}.${patch + 1}`, range)).toBe(true);
    expect(satisfiesRange('1.0.0', range)).toBe(false);
    expect(manifest).toMatchObject({
      name: 'plugboard-plugin-word-count',
      type: 'module',
      plugboard: { plugins: './dist/index.js' },
      peerDependencies: { '@plugboard/core': range },
      devDependencies: { '@plugboard/core': range, '@plugboard/testing': range, ...TOOLCHAIN },
    });

    // What test/plugin.test.ts checks, run here on the generated plugin module.
    const plugin = await import(pathToFileURL(join(dir, 'src/index.ts')).href);
    expect(isPluginClass(plugin.WordCountPlugin)).toBe(true);
    const { tasks } = await runPlugin(plugin.WordCountPlugin, { text: 'the quick brown fox' });
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({ state: 'succeeded', result: { words: 4 } });
    expect(tasks[0]!.logs.map((line) => line.message)).toEqual(['Counted 4 words']);
    await expect(runPlugin(plugin.WordCountPlugin, { text: '' })).rejects.toMatchObject({
      code: 'PLUGBOARD_INVALID_ARGUMENTS',
      details: { fields: [{ path: '/text' }] },
    });
    expect((await runTask(plugin.CountWordsTask, { text: 'one two' })).result).toEqual({ words: 2 });
    const generatedTest = readFileSync(join(dir, 'test/plugin.test.ts'), 'utf8');
    expect(generatedTest).toContain("runPlugin(WordCountPlugin, { text: 'the quick brown fox' })");
    expect(generatedTest).toContain("toEqual(['Counted 4 words'])");

    const typecheck = spawnSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], {
      encoding: 'utf8',
    });
    expect(typecheck.stdout + typecheck.stderr).toBe('');
    expect(typecheck.status).toBe(0);
  }, 60_000);

  it('builds a package that a host finds among its dependencies and runs', async () => {
    expect(create(['counter', '--name', '@acme/plugboard-counter', '--id', 'acme.count']).code).toBe(0);
    const dir = join(work, 'counter');
    const build = spawnSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.build.json')], {
      encoding: 'utf8',
    });
    expect(build.stdout + build.stderr).toBe('');
    expect(filesUnder(join(dir, 'dist'))).toEqual(['index.d.ts', 'index.js']);

    const hostDir = join(work, 'host');
    mkdirSync(join(hostDir, 'node_modules/@acme'), { recursive: true });
    symlinkSync(dir, join(hostDir, 'node_modules/@acme/plugboard-counter'), 'dir');
    writeFileSync(
      join(hostDir, 'package.json'),
      JSON.stringify({ dependencies: { '@acme/plugboard-counter': '*' } }),
    );
    const host = createHost({ cwd: hostDir, plugins: { packages: true }, env: false, argv: [] });
    const report = await host.start();
    try {
      expect(report.failures).toEqual([]);
      expect(report.plugins).toEqual([
        expect.objectContaining({ id: 'acme.count', status: 'operational', reason: null }),
      ]);
      expect(host.plugins.get('acme.count')).toMatchObject({ name: 'Acme count' });
      const { tasks } = await host.execute('acme.count', { text: 'one two three' });
      expect(await host.tasks.wait(tasks[0]!.id)).toMatchObject({
        state: 'succeeded',
        result: { words: 3 },
      });
    } finally {
      await host.stop();
    }
  }, 60_000);

  it('refuses a folder that is not empty and writes nothing into it', () => {
    const dir = join(work, 'occupied');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    const { code, stdout, stderr } = create(['occupied']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'create-plugboard-plugin: `occupied` is not empty (it holds notes.txt): choose a new folder, or empty ' +
        'this one first. Nothing was written.\n',
    );
    expect(readdirSync(dir)).toEqual(['notes.txt']);
  });

  it('accepts a folder holding only a git repository', () => {
    mkdirSync(join(work, 'with-git/.git'), { recursive: true });
    expect(create(['with-git']).code).toBe(0);
    expect(readdirSync(join(work, 'with-git'))).toContain('package.json');
  });

  it('refuses an id a host would refuse, with a usage error', () => {
    const { code, stderr } = create(['bad-id', '--id=-lead']);
    expect(code).toBe(2);
    expect(stderr).toContain('--id `-lead` is not a valid plugin id: use 1 to 64 letters');
    expect(() => readdirSync(join(work, 'bad-id'))).toThrow();
  });

  it('refuses a folder name that is no package name unless --name gives one', () => {
    const refused = create(['My Plugin']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('The folder name `My Plugin` is not a valid npm package name');
    const created = create(['My Plugin', '--name', 'my-plugin']);
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('cd "My Plugin"');
  });

  it('accepts exactly the ids a host accepts', async () => {
    const ids = [
      'a',
      'word-count',
      'v1.2_x',
      '3d',
      'x'.repeat(64),
      'x'.repeat(65),
      '-lead',
      '.x',
      'a b',
      'ü',
    ];
    const hostAccepts = async (id: string) => {
      class Probe extends ActionPlugin({ id, name: 'Probe' }) {
        createTasks() {}
      }
      const host = await createTestHost({ plugins: [Probe as unknown as PluginClass] });
      await host.stop();
      return host.plugins.list().some((p) => p.id === id);
    };
    for (const id of ids) expect([id, PLUGIN_ID_PATTERN.test(id)]).toEqual([id, await hostAccepts(id)]);
  });

  it('prints its usage on --help and refuses an unknown option', () => {
    const help = create(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: npm create plugboard-plugin <folder>');
    const unknown = create(['x', '--force']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--force'");
    const missing = create([]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Name the folder to create the plugin in.');
  });

  it('asks for a toolchain this repository builds and tests with', () => {
    const require = createRequire(join(root, 'package.json'));
    for (const [name, range] of Object.entries(TOOLCHAIN)) {
      const { version } = require(`${name}/package.json`) as { version: string };
      expect([name, satisfiesRange(version, range)]).toEqual([name, true]);
    }
  });
});
