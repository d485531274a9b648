#!/usr/bin/env node
// `npm run pack:local`: builds every published package, dependencies first, packs each into `packs/` at the
// repository root and prints the `npm install` command that adds them to another project. This is how a host or a
// plugin uses Plugboard from a clone before the packages are on the registry.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packagesInDependencyOrder } from './workspace-order.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'packs');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const tarballs = [];
for (const pkg of packagesInDependencyOrder(root)) {
  if (pkg.manifest.private) continue;
  const built = spawnSync('npm', ['run', 'build', '--silent'], { cwd: pkg.dir, stdio: 'inherit' });
  if (built.status !== 0) {
    console.error(`building ${pkg.manifest.name} failed`);
    process.exit(1);
  }
  const packed = spawnSync('npm', ['pack', '--pack-destination', out, '--json', '--silent'], {
    cwd: pkg.dir,
    encoding: 'utf8',
  });
  if (packed.status !== 0) {
    console.error(packed.stderr);
    process.exit(1);
  }
  const file = join(out, JSON.parse(packed.stdout)[0].filename);
  tarballs.push({ name: pkg.manifest.name, file });
  console.log(`packed ${pkg.manifest.name}: ${file}`);
}
console.log('\nIn your project, install the packages you use, for example:');
const pick = (name) => tarballs.find((t) => t.name === name)?.file;
console.log(`  npm install ${pick('@plugboard/core')} ${pick('@plugboard/sqlite')}`);
