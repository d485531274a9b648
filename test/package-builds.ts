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
 * Builds a workspace package with tsup unless its `dist/<entry>` is newer than every file of its `src`. Tests
 * import sources, but whatever Node loads natively (installed packages, packed tarballs, bins) needs the build.
 */
export function buildIfStale(name: string, entry = 'index.js'): void {
  const dir = join(root, 'packages', name);
  const built = join(dir, 'dist', entry);
  if (existsSync(built) && statSync(built).mtimeMs >= newestMtime(join(dir, 'src'))) return;
  const result = spawnSync('npx', ['tsup', '--silent'], { cwd: dir, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`building ${name} for the tests failed`);
}
