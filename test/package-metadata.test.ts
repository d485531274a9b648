import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without declarations
import { packagesInDependencyOrder } from '../scripts/workspace-order.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const license = readFileSync(join(root, 'LICENSE'), 'utf8');
const published = (
  packagesInDependencyOrder(root) as { dir: string; folder: string; manifest: Record<string, any> }[]
).filter((pkg) => !pkg.manifest.private);

describe('published package metadata', () => {
  it('the repository has an MIT LICENSE file', () => {
    expect(license).toMatch(/^MIT License/);
  });

  it.each(published.map((pkg) => [pkg.manifest.name, pkg] as const))(
    '%s ships the LICENSE and names its repository, homepage and issue tracker',
    (_name, pkg) => {
      expect(pkg.manifest.license).toBe('MIT');
      expect(readFileSync(join(pkg.dir, 'LICENSE'), 'utf8')).toBe(license);
      expect(pkg.manifest.repository).toMatchObject({
        type: 'git',
        url: expect.stringMatching(/^git\+https:\/\//),
        directory: `packages/${pkg.folder}`,
      });
      expect(pkg.manifest.homepage).toMatch(/^https:\/\//);
      expect(pkg.manifest.bugs.url).toMatch(/^https:\/\//);
    },
  );

  it('core loads TypeScript plugins through jiti only when the host installs it (an optional peer)', () => {
    const core = published.find((pkg) => pkg.folder === 'core')!.manifest;
    expect(core.dependencies.jiti).toBeUndefined();
    expect(core.peerDependencies.jiti).toBeDefined();
    expect(core.peerDependenciesMeta.jiti).toEqual({ optional: true });
  });
});
