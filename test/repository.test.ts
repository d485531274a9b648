import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without declarations
import { packagesInDependencyOrder } from '../scripts/workspace-order.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const readJson = (path: string) => JSON.parse(readFileSync(join(root, path), 'utf8'));

/** The package.json of every workspace folder (`packages/*`, `examples/*`). */
function workspaceManifests(): string[] {
  return ['packages', 'examples'].flatMap((folder) =>
    readdirSync(join(root, folder))
      .map((name) => `${folder}/${name}/package.json`)
      .filter((path) => existsSync(join(root, path))),
  );
}

describe('a fresh clone installs and builds', () => {
  it('`npm ci` accepts the committed lock file', () => {
    // npm's own check, on a copy of the manifests and the lock, without touching this checkout's node_modules.
    const copy = mkdtempSync(join(tmpdir(), 'plugboard-lock-'));
    const manifests = ['package.json', 'package-lock.json', ...workspaceManifests()];
    for (const path of manifests) {
      mkdirSync(dirname(join(copy, path)), { recursive: true });
      cpSync(join(root, path), join(copy, path));
    }
    const result = spawnSync('npm', ['ci', '--dry-run', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: copy,
      encoding: 'utf8',
    });
    rmSync(copy, { recursive: true, force: true });
    expect(result.stderr).not.toMatch(/npm error/);
    expect(result.status).toBe(0);
  }, 60_000);

  it('declares the npm version that writes a complete lock file', () => {
    expect(readJson('package.json').devEngines.packageManager).toMatchObject({
      name: 'npm',
      version: '>=11.3.0',
    });
  });

  it('the root build runs each workspace package after the workspace packages it depends on', () => {
    expect(readJson('package.json').scripts.build).toBe('node scripts/build.mjs');
    const order = (
      packagesInDependencyOrder(root) as { manifest: Record<string, Record<string, string>> }[]
    ).map((pkg) => pkg.manifest);
    const names = order.map((manifest) => manifest.name as unknown as string);
    expect(names[0]).toBe('@plugboard/core');
    for (const [index, manifest] of order.entries()) {
      const dependsOn = Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies }).filter(
        (name) => names.includes(name),
      );
      for (const dependency of dependsOn) expect(names.indexOf(dependency)).toBeLessThan(index);
    }
  });
});
