import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/**
 * Tests import the packages' sources, but plugin files that Node loads natively (installed packages, CommonJS
 * modules) resolve `@plugboard/core` through node_modules to its build: keep that build current.
 */
export default function setup(): void {
  for (const name of ['core']) {
    const dir = join(root, 'packages', name);
    const built = join(dir, 'dist', 'index.js');
    if (existsSync(built) && statSync(built).mtimeMs >= newestMtime(join(dir, 'src'))) continue;
    const result = spawnSync('npx', ['tsup', '--silent'], { cwd: dir, stdio: 'inherit' });
    if (result.status !== 0) throw new Error(`building @plugboard/${name} for the tests failed`);
  }
}
