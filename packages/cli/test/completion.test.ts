import { PassThrough } from 'node:stream';
import type { Host } from '@plugboard/core';
import { createTestHost } from '@plugboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/index.js';
import { DeployPlugin } from './fixtures/plugins/deploy.js';
import { NightlyPlugin } from './fixtures/plugins/nightly.js';

let host: Host;
beforeAll(async () => {
  host = await createTestHost({ plugins: [DeployPlugin, NightlyPlugin] });
});
afterAll(() => host.stop());

async function run(args: string[]): Promise<{ code: number; out: string }> {
  const out = new PassThrough().setEncoding('utf8');
  let text = '';
  out.on('data', (chunk: string) => {
    text += chunk;
  });
  const code = await runCli(host, args, {
    from: 'user',
    name: 'tool',
    stdout: out,
    stderr: new PassThrough(),
    env: {},
    handleSignals: false,
  });
  return { code, out: text };
}

const complete = async (...words: string[]) => (await run(['__complete', ...words])).out.trim().split('\n');

describe('shell completion', () => {
  it('completes commands and plugins, the flags of a plugin, and the values of an enum flag', async () => {
    expect(await complete('')).toEqual([
      'completion',
      'deploy',
      'dev',
      'plugins',
      'run',
      'schedules',
      'tasks',
    ]);
    expect(await complete('de')).toEqual(['deploy', 'dev']);
    expect(await complete('deploy', '--')).toEqual(
      expect.arrayContaining([
        '--version',
        '--target',
        '--dry-run',
        '--no-dry-run',
        '--replicas',
        '--tags',
        '--json',
      ]),
    );
    expect(await complete('deploy', '--target', '')).toEqual(['production', 'staging']);
    expect(await complete('deploy', '--target', 'p')).toEqual(['production']);
    expect(await complete('run', 'deploy', '--target', '')).toEqual(['production', 'staging']);
  });

  it('completes task states and plugin ids for `tasks`, schedules for `schedules trigger`, shells for `completion`', async () => {
    expect(await complete('tasks', '--state', 'c')).toEqual(['cancelled']);
    expect(await complete('tasks', '--plugin', '')).toEqual(['deploy', 'nightly']);
    expect(await complete('schedules', 'trigger', '')).toEqual(['nightly']);
    expect(await complete('completion', '')).toEqual(['bash', 'fish', 'zsh']);
  });

  it('prints a completion script for bash, zsh and fish that calls the program back', async () => {
    for (const shell of ['bash', 'zsh', 'fish']) {
      const { code, out } = await run(['completion', shell]);
      expect(code).toBe(0);
      expect(out).toContain('tool __complete');
    }
    expect((await run(['completion', 'bash'])).out).toContain('complete -o default -F _tool_complete tool');
    expect((await run(['completion', 'tcsh'])).code).toBe(2);
  });
});
