// The workspace packages in dependency order: a package comes after every workspace package it depends on, so its
// declarations build against theirs. Ties keep folder order. Shared by the root build, the package checks and the
// release script.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Reads `<root>/packages/*` and returns `{ dir, folder, manifest }` for each, dependencies first. Throws on a cycle.
 */
export function packagesInDependencyOrder(root) {
  const base = join(root, 'packages');
  const all = readdirSync(base)
    .filter((folder) => existsSync(join(base, folder, 'package.json')))
    .sort()
    .map((folder) => ({
      dir: join(base, folder),
      folder,
      manifest: JSON.parse(readFileSync(join(base, folder, 'package.json'), 'utf8')),
    }));
  const byName = new Map(all.map((pkg) => [pkg.manifest.name, pkg]));
  const ordered = [];
  const state = new Map();
  const visit = (pkg, path) => {
    if (state.get(pkg) === 'done') return;
    if (state.get(pkg) === 'visiting') {
      throw new Error(
        `workspace packages depend on each other in a cycle: ${[...path, pkg.manifest.name].join(' -> ')}`,
      );
    }
    state.set(pkg, 'visiting');
    const { dependencies = {}, peerDependencies = {}, devDependencies = {} } = pkg.manifest;
    for (const name of Object.keys({ ...dependencies, ...peerDependencies, ...devDependencies }).sort()) {
      const dependency = byName.get(name);
      if (dependency && dependency !== pkg) visit(dependency, [...path, pkg.manifest.name]);
    }
    state.set(pkg, 'done');
    ordered.push(pkg);
  };
  for (const pkg of all) visit(pkg, []);
  return ordered;
}
