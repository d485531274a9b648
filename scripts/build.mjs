#!/usr/bin/env node
// `npm run build`: builds every workspace package that has a build script, dependencies first (npm's own
// `--workspaces` runs them in folder order, which builds a package's declarations before its dependency's).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { packagesInDependencyOrder } from './workspace-order.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
for (const pkg of packagesInDependencyOrder(root)) {
  if (!pkg.manifest.scripts?.build) continue;
  console.log(`\n— build ${pkg.manifest.name}`);
  const result = spawnSync('npm', ['run', 'build'], { cwd: pkg.dir, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`\nbuilding ${pkg.manifest.name} failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status || 1);
  }
}
