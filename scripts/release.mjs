#!/usr/bin/env node
// Builds, checks and publishes the public packages: `npm run release`. With --dry-run it does everything but
// publish: it applies the pending changesets in a copy of the workspace and runs `npm publish --dry-run` there,
// so it shows the versions, changelog entries and tarballs a release would publish and changes nothing here.
//
//   node scripts/release.mjs [--dry-run] [--skip-tests] [--skip-checks]
//
//   --skip-tests   build and check the packed packages (publint, attw), without the full test command
//   --skip-checks  build only; for the test command, which checks the packed packages itself
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packagesInDependencyOrder } from './workspace-order.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = new Set(process.argv.slice(2));
const known = new Set(['--dry-run', '--skip-tests', '--skip-checks']);
for (const arg of args) {
  if (!known.has(arg)) fail(`Unknown option \`${arg}\`; expected ${[...known].join(', ')}.`);
}
const dryRun = args.has('--dry-run');
const skipTests = args.has('--skip-tests') || args.has('--skip-checks');
const skipChecks = args.has('--skip-checks');

function fail(message) {
  console.error(`release: ${message}`);
  process.exit(1);
}

function step(title, command, commandArgs, cwd = root) {
  console.log(`\n▶ ${title}`);
  const result = spawnSync(command, commandArgs, { cwd, stdio: 'inherit', env: process.env });
  if (result.status !== 0) fail(`${title} failed.`);
}

/** Every package that is published: not private. Core first, since the others' declarations are built against it. */
function publicPackages(base) {
  return packagesInDependencyOrder(base).filter((pkg) => !pkg.manifest.private);
}

function pendingChangesets() {
  return readdirSync(join(root, '.changeset')).filter((name) => name.endsWith('.md') && name !== 'README.md');
}

function newestMtime(path) {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

/** A dry run reuses a build newer than every source; a release always builds afresh. */
function isBuilt(pkg) {
  const dist = join(pkg.dir, 'dist');
  if (!existsSync(dist)) return false;
  const sources = Math.max(newestMtime(join(pkg.dir, 'src')), newestMtime(join(pkg.dir, 'package.json')));
  return readdirSync(dist).every((name) => statSync(join(dist, name)).mtimeMs >= sources);
}

const packages = publicPackages(root);
for (const pkg of packages) {
  if (!existsSync(join(pkg.dir, 'CHANGELOG.md'))) fail(`${pkg.manifest.name} has no CHANGELOG.md.`);
}
const pending = pendingChangesets();
if (!dryRun && pending.length > 0) {
  fail(
    `${pending.length} changeset(s) are not applied yet (${pending.join(', ')}): run \`npm run version\`, ` +
      'review and commit the new versions and changelogs, then release.',
  );
}

for (const pkg of packages) {
  if (dryRun && isBuilt(pkg)) console.log(`\n✔ ${pkg.manifest.name} is built`);
  else step(`build ${pkg.manifest.name}`, 'npm', ['run', 'build', '--silent'], pkg.dir);
}
if (!skipTests)
  step('the test command (lint, types, API reference, packed packages, tests)', 'node', ['scripts/test.mjs']);
else if (!skipChecks) step('packed packages (publint, attw)', 'node', ['scripts/check-packages.mjs']);

if (!dryRun) {
  step('publish (changeset publish)', 'npx', ['changeset', 'publish']);
  console.log('\nPublished. Push the new tags: git push --follow-tags');
  process.exit(0);
}

// The dry run: apply the changesets to a copy of the workspace's manifests and changelogs, then pack there.
const copy = join(root, '.tmp', 'release-dry-run');
rmSync(copy, { recursive: true, force: true });
mkdirSync(copy, { recursive: true });
cpSync(join(root, 'package.json'), join(copy, 'package.json'));
cpSync(join(root, '.changeset'), join(copy, '.changeset'), { recursive: true });
for (const workspace of ['packages', 'examples']) {
  for (const name of readdirSync(join(root, workspace))) {
    const from = join(root, workspace, name);
    if (!existsSync(join(from, 'package.json'))) continue;
    for (const entry of ['package.json', 'CHANGELOG.md', 'README.md', 'LICENSE', 'dist']) {
      if (existsSync(join(from, entry))) {
        cpSync(join(from, entry), join(copy, workspace, name, entry), { recursive: true });
      }
    }
  }
}
// The copy lies inside the repository, so `changeset` resolves its changelog generator from node_modules here.
step(
  `apply ${pending.length} pending changeset(s) to a copy (changeset version)`,
  'npx',
  ['changeset', 'version'],
  copy,
);

console.log('\nA release would publish:');
const released = publicPackages(copy);
for (const pkg of released) {
  const before = packages.find((p) => p.folder === pkg.folder)?.manifest.version;
  const changelog = readFileSync(join(pkg.dir, 'CHANGELOG.md'), 'utf8');
  const entry = changelog.includes(`## ${pkg.manifest.version}\n`)
    ? 'changelog entry written'
    : 'no changelog entry';
  console.log(`  ${pkg.manifest.name}@${pkg.manifest.version} (now ${before}; ${entry})`);
}
const versions = new Set(released.map((pkg) => pkg.manifest.version));
if (versions.size !== 1)
  fail(`the packages are released together but would get different versions: ${[...versions].join(', ')}.`);
const majorAsked = pending.some((name) =>
  /^---\n[\s\S]*?:\s*major\s*\n[\s\S]*?---/.test(readFileSync(join(root, '.changeset', name), 'utf8')),
);
const [next] = versions;
const current = packages[0]?.manifest.version ?? next;
if (!majorAsked && next.split('.')[0] !== current.split('.')[0]) {
  console.warn(
    `\n⚠ No changeset asks for a major release, yet the version would go from ${current} to ${next}. ` +
      'changesets releases a package as a new major when a package it names in peerDependencies gets a ' +
      'minor release and the new version leaves the peer range. Check the peer ranges and the ' +
      '`___experimentalUnsafeOptions_WILL_CHANGE_IN_PATCH.onlyUpdatePeerDependentsWhenOutOfRange` option of ' +
      '.changeset/config.json before releasing.',
  );
}
for (const pkg of released) {
  step(
    `npm publish --dry-run ${pkg.manifest.name}`,
    'npm',
    ['publish', '--dry-run', '--access', 'public'],
    pkg.dir,
  );
}
console.log(`\nDry run complete: nothing was published. The versioned copy is in ${copy}.`);
