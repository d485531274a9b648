import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { readSamples } from './doc-samples.js';

const root = new URL('..', import.meta.url).pathname;
let previousCwd = process.cwd();

afterEach(() => process.chdir(previousCwd));

describe('the README', () => {
  it('runs its plugin and host example as written: the greet task succeeds with the configured greeting', async () => {
    const samples = readSamples(join(root, 'README.md'));
    expect(samples.map((s) => s.path)).toEqual(['plugins/greet.ts', 'host.ts']);
    const dir = mkdtempSync(join(tmpdir(), 'plugboard-readme-'));
    for (const sample of samples) {
      const file = join(dir, sample.path);
      mkdirSync(dirname(file), { recursive: true });
      const code =
        sample.path === 'host.ts' ? `${sample.code}\nexport { host, report, record };\n` : sample.code;
      writeFileSync(file, code);
    }
    previousCwd = process.cwd();
    process.chdir(dir);
    const { host, report, record } = await import(pathToFileURL(join(dir, 'host.ts')).href);
    expect(report.plugins).toEqual([expect.objectContaining({ id: 'greet', status: 'operational' })]);
    expect(host.plugins.list()[0]).toMatchObject({
      id: 'greet',
      status: 'operational',
      name: 'Greet someone',
    });
    expect(record).toMatchObject({ state: 'succeeded', result: { greeted: 'Hi, Ada' }, progress: 100 });
    expect(host.state).toBe('stopped');
  });
});
