import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readSamples } from './doc-samples.js';
import { buildIfStale } from './package-builds.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const work = join(root, '.tmp/tests/packed-guide');
const tsc = join(root, 'node_modules/typescript/bin/tsc');

function run(command: string, args: readonly string[], cwd: string) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  const output = `${result.stdout}${result.stderr}`;
  if (result.status !== 0) throw new Error(`\`${command} ${args.join(' ')}\` failed in ${cwd}:\n${output}`);
  return result.stdout;
}

/** Packs a workspace package into `dir` and returns the tarball's path. */
function pack(name: string, dir: string): string {
  const out = run('npm', ['pack', '--pack-destination', dir, '--json'], join(root, 'packages', name));
  return join(dir, (JSON.parse(out) as [{ filename: string }])[0].filename);
}

// How the samples are compiled: as a reader's project would be, against the installed packages' declarations.
const tsconfig = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2023'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    skipLibCheck: true,
    types: ['node'],
    // The guide imports its own modules as `./points.ts`; the emitted JavaScript imports `./points.js`.
    rewriteRelativeImportExtensions: true,
    rootDir: '.',
    outDir: 'out',
  },
  include: ['**/*.ts'],
  exclude: ['node_modules', 'out'],
};

// Reads back what the guide's host sample declared; appended after the sample, which stays as written.
const readBack = `
console.log(JSON.stringify({
  statuses: Object.fromEntries(report.plugins.map((p) => [p.id, p.status])),
  failures: report.failures,
  words: wordsDone,
  cover: coverDone,
  resized: resized.tasks.length,
  summary,
  stopped: host.state,
}));
`;

// The harness from the packed @plugboard/testing, on the guide's first plugin from the packed @plugboard/core.
const harnessCheck = `import { runPlugin } from '@plugboard/testing';
import { WordStatsPlugin } from './plugins/word-stats.ts';

const { tasks } = await runPlugin(WordStatsPlugin, { text: 'one two three' });
console.log(JSON.stringify({ state: tasks[0]?.state, result: tasks[0]?.result }));
`;

describe('the packed packages', () => {
  it('run the plugin guide, installed from their tarballs into a new project', () => {
    buildIfStale('core');
    buildIfStale('testing');
    rmSync(work, { recursive: true, force: true });
    const tarballs = join(work, 'tarballs');
    const project = join(work, 'project');
    mkdirSync(tarballs, { recursive: true });
    mkdirSync(project, { recursive: true });
    const core = pack('core', tarballs);
    const testing = pack('testing', tarballs);

    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'plugin-guide-reader', private: true, type: 'module' }),
    );
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', core, testing], project);

    const samples = readSamples(join(root, 'docs/plugin-guide.md'));
    expect(samples[0]?.path).toBe('plugins/word-stats.ts');
    for (const sample of samples) {
      const file = join(project, sample.path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, sample.path === 'host.ts' ? sample.code + readBack : sample.code);
    }
    writeFileSync(join(project, 'harness-check.ts'), harnessCheck);
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(tsconfig));
    run(process.execPath, [tsc, '-p', 'tsconfig.json'], project);

    const out = join(project, 'out');
    const guide = JSON.parse(run(process.execPath, ['host.js'], out).trim().split('\n').at(-1)!);
    expect(guide).toMatchObject({
      statuses: {
        'word-stats': 'operational',
        'resize-images': 'operational',
        archive: 'operational',
        checksum: 'operational',
        'rebuild-cover': 'operational',
        'nightly-reindex': 'operational',
        'count-by-type': 'operational',
      },
      failures: [],
      words: { state: 'succeeded', result: { words: 4 } },
      cover: { state: 'succeeded', result: { cover: '/library/dune/cover-512.jpg' } },
      resized: 2,
      summary: ['login: 2, scan: 1'],
      stopped: 'stopped',
    });
    expect(Object.keys(guide.statuses)).toHaveLength(7);

    const harness = JSON.parse(run(process.execPath, ['harness-check.js'], out).trim());
    expect(harness).toEqual({ state: 'succeeded', result: { words: 3 } });
  }, 120_000);
});
