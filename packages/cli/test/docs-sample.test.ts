import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readSamples } from '../../../test/doc-samples.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

const plugin = `
import { ActionPlugin, Task, Type, type Static, type TaskContext } from '@plugboard/core';
class ScanTask extends Task<{ folder: string }> {
  run(ctx: TaskContext) { ctx.log.info('scanning ' + this.input.folder); return { scanned: this.input.folder }; }
}
const ScanArgs = Type.Object({ folder: Type.String({ description: 'The folder to scan', env: 'SCAN_FOLDER' }) });
export class ScanPlugin extends ActionPlugin({ id: 'scan', name: 'Scan', args: ScanArgs, tasks: [ScanTask] }) {
  createTasks(args: Static<typeof ScanArgs>) { return new ScanTask(args); }
}
`;

// Loads the TypeScript sample through jiti with the workspace sources, as a reader's build would.
const runner = `
import { createJiti } from ${JSON.stringify(`${root}node_modules/jiti/lib/jiti.mjs`)};
const alias = {
  '@plugboard/core/spi': ${JSON.stringify(`${root}packages/core/src/spi.ts`)},
  '@plugboard/core': ${JSON.stringify(`${root}packages/core/src/index.ts`)},
  '@plugboard/cli': ${JSON.stringify(`${root}packages/cli/src/index.ts`)},
};
process.env.JITI_ALIAS = JSON.stringify(alias);
await createJiti(import.meta.url, { alias }).import('./bin/media.ts');
`;

describe('docs/cli.md', () => {
  it('its bin script sample is a working CLI host', () => {
    const [sample] = readSamples(join(root, 'docs/cli.md'));
    expect(sample!.path).toBe('bin/media.ts');
    const dir = mkdtempSync(join(tmpdir(), 'plugboard-cli-docs-'));
    for (const [path, text] of [
      ['bin/media.ts', sample!.code.replace(/^#!.*\n/, '')],
      ['plugins/scan.ts', plugin],
      ['run.mjs', runner],
    ] as const) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    const env: NodeJS.ProcessEnv = { ...process.env, SCAN_FOLDER: '/media/films', USER: 'ada' };
    delete env.NO_COLOR;
    delete env.FORCE_COLOR;
    const help = spawnSync(process.execPath, ['run.mjs', '--help'], { cwd: dir, env, encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: media [options] [command]');
    expect(help.stdout).toContain('Maintenance commands for the media server.');
    const scan = spawnSync(process.execPath, ['run.mjs', 'scan', '--json'], {
      cwd: dir,
      env,
      encoding: 'utf8',
    });
    expect(scan.status).toBe(0);
    expect(JSON.parse(scan.stdout).tasks[0]).toMatchObject({
      state: 'succeeded',
      result: { scanned: '/media/films' },
      user: { id: 'cli:ada', permissions: ['media:write'] },
    });
  });
});
