#!/usr/bin/env node
// Runs the tests of the packages a host embeds directly (core, testing, express, cli) on the other Node.js majors
// hosts run: 22 and 24, from the registry's `node` package (`npx node@22`). The main test run uses the Node.js
// that runs this script. Prints one line per version and exits non-zero when a test fails on any of them.
//
// Left out: the Express soak test (a minute of load, covered on the main Node.js) and the files that load the SQLite
// store (the dashboard's 10,000-task history), whose native binding is compiled for the Node.js that installed it.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const versions = (process.env.PLUGBOARD_TEST_NODE_VERSIONS ?? '22,24').split(',').filter(Boolean);
const folders = [
  'packages/core/test',
  'packages/testing/test',
  'packages/express/test',
  'packages/cli/test',
].filter((folder) => existsSync(join(root, folder)));
const excluded = ['packages/express/test/soak.test.ts', 'packages/express/test/dashboard-page.test.ts'];

let ok = true;
for (const version of versions) {
  const results = join(root, `.vitest-results-node${version}.json`);
  rmSync(results, { force: true });
  const run = spawnSync(
    'npx',
    [
      '--yes',
      `node@${version}`,
      join(root, 'node_modules/vitest/vitest.mjs'),
      'run',
      ...folders,
      // Once each: the HTTP suite's runs on Hono, Fastify and node:http are for the Node.js that runs `npm test`.
      '--project',
      'default',
      '--reporter=dot',
      '--reporter=json',
      `--outputFile.json=${results}`,
    ],
    {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, PLUGBOARD_TEST_EXCLUDE: excluded.join(',') },
    },
  );
  if (!existsSync(results)) {
    console.log(`Node.js ${version}: no results (exit ${run.status ?? run.signal})`);
    ok = false;
    continue;
  }
  const summary = JSON.parse(readFileSync(results, 'utf8'));
  const failedFiles = (summary.testResults ?? []).filter(
    (file) => file.status === 'failed' && (file.assertionResults ?? []).length === 0,
  ).length;
  const failed = (summary.numFailedTests ?? 0) + failedFiles;
  const skipped = (summary.numPendingTests ?? 0) + (summary.numTodoTests ?? 0);
  console.log(
    `Node.js ${version}: ${summary.numPassedTests} passed, ${failed} failed, ${skipped} skipped (of ${summary.numTotalTests})`,
  );
  if (failed > 0 || run.status !== 0 || summary.numTotalTests === 0) ok = false;
}
process.exit(ok ? 0 : 1);
