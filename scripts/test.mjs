#!/usr/bin/env node
// The one test command: installs what the tests need, lints, type-checks, builds the API reference, checks the packed
// packages and the API reports, runs the benchmarks once in short mode, runs every vitest test, and ends with a plain "N passed, N failed, N skipped" line. Exits non-zero on
// any failure.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installIfNeeded, runStep } from './install-deps.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const ci = Boolean(process.env.CI) && process.env.CI !== 'false';
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const filters = args.filter((a) => !a.startsWith('--'));

const run = runStep;

const checks = [];
if (!installIfNeeded(run)) {
  console.log('\n0 passed, 1 failed');
  process.exit(1);
}
for (const step of ['setup-system']) {
  const script = join(root, 'scripts', `${step}.mjs`);
  if (!existsSync(script)) continue;
  const installed = run('install system packages', 'node', [script]);
  // Without root a missing package cannot be installed here: locally the tests that need it are skipped, and
  // listed at the end with the command that installs it; in CI that is a failure.
  if (installed || ci) checks.push(['install system packages', installed]);
}
if (!quick) {
  checks.push(['lint (biome)', run('lint (biome)', 'npx', ['biome', 'check', '.'])]);
  checks.push([
    'type-check (tsc)',
    run('type-check (tsc)', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']),
  ]);
  checks.push([
    'API reference (typedoc, every public export documented)',
    run('API reference (typedoc, every public export documented)', 'npx', ['typedoc']),
  ]);
  checks.push([
    'packages (build, publint, attw)',
    run('packages (build, publint, attw)', 'node', ['scripts/check-packages.mjs']),
  ]);
  // The packages were just built: the reports are compared from their declarations.
  checks.push([
    'API reports (packages/*/api, `npm run api:update` after a public API change)',
    run('API reports (packages/*/api, `npm run api:update` after a public API change)', 'node', [
      'scripts/api-report.mjs',
      '--no-build',
    ]),
  ]);
  checks.push([
    'release dry run (changeset version, npm publish --dry-run)',
    run('release dry run (changeset version, npm publish --dry-run)', 'node', [
      'scripts/release.mjs',
      '--dry-run',
      '--skip-checks',
    ]),
  ]);
  checks.push([
    'tests of core, testing, express and cli on Node.js 22 and 24',
    run('tests of core, testing, express and cli on Node.js 22 and 24', 'node', [
      'scripts/test-node-versions.mjs',
    ]),
  ]);
  // Benchmarks report figures and never fail on a missed target; here they run once, small, to prove they work.
  checks.push([
    'benchmarks (npm run bench -- --short)',
    run('benchmarks (npm run bench -- --short)', 'node', ['bench/run.mjs', '--short']),
  ]);
}

const resultsFile = join(root, '.vitest-results.json');
rmSync(resultsFile, { force: true });
// Test files that cannot run here (no tmux, no root for a tmpfs...) leave a note of what is missing: test/requirements.ts.
const skipNotesDir = join(root, '.tmp', 'test-skips');
rmSync(skipNotesDir, { recursive: true, force: true });
run('tests (vitest)', 'npx', [
  'vitest',
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${resultsFile}`,
  ...filters,
]);

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(resultsFile)) {
  const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
  passed = results.numPassedTests ?? 0;
  failed = results.numFailedTests ?? 0;
  skipped = (results.numPendingTests ?? 0) + (results.numTodoTests ?? 0);
  // A file that fails to load counts as a failure even though it has no test results.
  for (const file of results.testResults ?? []) {
    if (file.status === 'failed' && (file.assertionResults ?? []).length === 0) failed++;
  }
  if (results.numTotalTests === 0) {
    console.log('No test ran.');
    failed++;
  }
} else {
  console.log('vitest wrote no results.');
  failed++;
}
for (const [, ok] of checks) {
  if (ok) passed++;
  else failed++;
}
const skipNotes = existsSync(skipNotesDir)
  ? readdirSync(skipNotesDir).map((name) => JSON.parse(readFileSync(join(skipNotesDir, name), 'utf8')))
  : [];
if (skipped > 0 || skipNotes.length > 0) {
  const bar = '!'.repeat(78);
  console.log(
    `\n${bar}\n${skipped} test(s) SKIPPED${ci ? ': in CI nothing may be skipped, so they count as failed' : ''}.`,
  );
  for (const note of skipNotes) console.log(`  ${note.file}: ${note.missing}.\n    Install: ${note.install}`);
  if (skipNotes.length === 0)
    console.log('  (skipped in the test files themselves: look for it.skip, it.todo or skipIf)');
  console.log(bar);
}
if (ci && skipped > 0) {
  failed += skipped;
  skipped = 0;
}
const failedChecks = checks.filter(([, ok]) => !ok).map(([name]) => name);
if (failedChecks.length > 0) console.log(`Failed checks: ${failedChecks.join(', ')}`);
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
