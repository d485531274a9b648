#!/usr/bin/env node
// Builds every published package, packs it, and checks the tarball with publint and @arethetypeswrong/cli.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packagesInDependencyOrder } from './workspace-order.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'plugboard-pack-'));
let ok = true;

function step(cwd, command, args) {
  const result = spawnSync(command, args, { cwd, stdio: 'inherit', env: process.env });
  return result.status === 0;
}

// Dependencies first: a package's declarations are built against theirs.
for (const { dir, manifest } of packagesInDependencyOrder(root)) {
  if (manifest.private) continue;
  console.log(`\n— ${manifest.name}`);
  if (!step(dir, 'npm', ['run', 'build', '--silent'])) {
    ok = false;
    continue;
  }
  const packed = spawnSync('npm', ['pack', '--pack-destination', out, '--json'], {
    cwd: dir,
    encoding: 'utf8',
  });
  if (packed.status !== 0) {
    console.error(packed.stderr);
    ok = false;
    continue;
  }
  const tarball = join(out, JSON.parse(packed.stdout)[0].filename);
  ok = step(root, 'npx', ['publint', '--strict', tarball]) && ok;
  ok = step(root, 'npx', ['attw', '--pack', dir, '--profile', 'esm-only', '--format', 'table-flipped']) && ok;
}
process.exit(ok ? 0 : 1);
