#!/usr/bin/env node
// `npm run test:mutation [-- name-filter...]`: runs Stryker once per target of stryker.config.mjs (each target's
// files mutated against its own tests, each in a process of its own), then prints the score per file and the
// surviving mutants, and writes them to .tmp/mutation/summary.json. Exits non-zero when a file scores below the
// target (85% killed).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root);
const TARGET = 85;
const config = await import(join(root, 'stryker.config.mjs'));
const reportOf = (target) => `.tmp/mutation/${target.name.replace(/[^\w]+/g, '-')}.json`;

const only = process.argv.find((a) => a.startsWith('--only='));
if (only) {
  // One target, in this process: Stryker keeps state in the options it was given, so a second run in the same
  // process would start from the first one's.
  const target = config.targets[Number(only.slice('--only='.length))];
  const { Stryker } = await import('@stryker-mutator/core');
  await new Stryker({
    ...config.default,
    mutate: target.mutate,
    testFiles: target.tests,
    jsonReporter: { fileName: reportOf(target) },
    // MUTATION_CONCURRENCY=1 runs one test runner, for a machine shared with other work.
    ...(process.env.MUTATION_CONCURRENCY ? { concurrency: Number(process.env.MUTATION_CONCURRENCY) } : {}),
    // A sandbox of its own, so two runs (of different targets) can go at once.
    tempDirName: `.tmp/stryker-${process.pid}`,
  }).runMutationTest();
  process.exit(0);
}

const filters = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const chosen = config.targets
  .map((target, index) => ({ target, index }))
  .filter(
    ({ target }) =>
      filters.length === 0 || filters.some((f) => target.name.toLowerCase().includes(f.toLowerCase())),
  );
if (chosen.length === 0) {
  console.error(`No target matches ${filters.join(', ')}; the targets are:`);
  for (const t of config.targets) console.error(`  ${t.name}`);
  process.exit(2);
}

const KILLED = new Set(['Killed', 'Timeout']);
const rows = [];
const survivors = [];
const failedTargets = [];
const began = Date.now();
for (const { target, index } of chosen) {
  console.log(`\n=== ${target.name}: ${target.mutate.join(', ')}`);
  const started = Date.now();
  // --report-only summarises the reports of an earlier run without running Stryker again.
  if (!process.argv.includes('--report-only')) {
    rmSync(join(root, reportOf(target)), { force: true });
    const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), `--only=${index}`], {
      stdio: 'inherit',
    });
    if (run.status !== 0) failedTargets.push(target.name);
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  if (!existsSync(join(root, reportOf(target)))) {
    if (!failedTargets.includes(target.name)) failedTargets.push(target.name);
    continue;
  }
  const report = JSON.parse(readFileSync(join(root, reportOf(target)), 'utf8'));
  for (const [name, file] of Object.entries(report.files)) {
    const path = name.startsWith(root) ? name.slice(root.length) : name;
    const lines = file.source.split('\n');
    const c = { killed: 0, survived: 0, noCoverage: 0 };
    for (const m of file.mutants) {
      if (KILLED.has(m.status)) c.killed++;
      else if (m.status === 'Survived') c.survived++;
      else if (m.status === 'NoCoverage') c.noCoverage++;
      else continue;
      if (m.status === 'Survived' || m.status === 'NoCoverage') {
        const line = m.location.start.line;
        survivors.push({
          file: path,
          line,
          mutator: m.mutatorName,
          status: m.status,
          code: lines[line - 1]?.trim(),
          replacement: m.replacement,
        });
      }
    }
    const total = c.killed + c.survived + c.noCoverage;
    rows.push({
      target: target.name,
      file: path,
      ...c,
      score: total === 0 ? 100 : (100 * c.killed) / total,
      seconds,
    });
  }
}

const minutes = ((Date.now() - began) / 60_000).toFixed(1);
if (survivors.length > 0) {
  console.log('\nSurviving mutants (file:line mutator: code -> replacement):');
  for (const s of survivors) {
    const show = (text) =>
      String(text ?? '')
        .replace(/\s+/g, ' ')
        .slice(0, 80);
    const note = s.status === 'NoCoverage' ? ' (no test reaches it)' : '';
    console.log(`  ${s.file}:${s.line} ${s.mutator}${note}: ${show(s.code)} -> ${show(s.replacement)}`);
  }
}
console.log(
  `\nMutation score per file (killed / (killed + survived + no coverage)), ${minutes} min in all:\n`,
);
const width = Math.max(4, ...rows.map((r) => r.file.length));
console.log(`${'file'.padEnd(width)}   score  killed survived no-cov  target run`);
for (const r of rows) {
  console.log(
    `${r.file.padEnd(width)}  ${r.score.toFixed(1).padStart(5)}%  ${String(r.killed).padStart(6)} ${String(r.survived).padStart(8)} ${String(r.noCoverage).padStart(6)}  ${r.seconds} s`,
  );
}
const killed = rows.reduce((n, r) => n + r.killed, 0);
const total = rows.reduce((n, r) => n + r.killed + r.survived + r.noCoverage, 0);
console.log(
  `${'all'.padEnd(width)}  ${((100 * killed) / Math.max(total, 1)).toFixed(1).padStart(5)}%  ${killed}/${total}`,
);
mkdirSync(join(root, '.tmp', 'mutation'), { recursive: true });
writeFileSync(
  join(root, '.tmp', 'mutation', 'summary.json'),
  JSON.stringify({ minutes: Number(minutes), rows, survivors, failedTargets }, null, 2),
);
const below = rows.filter((r) => r.score < TARGET);
if (below.length > 0) console.log(`\nBelow ${TARGET}%: ${below.map((r) => r.file).join(', ')}`);
if (failedTargets.length > 0) console.log(`\nStryker did not finish: ${failedTargets.join(', ')}`);
process.exit(below.length > 0 || failedTargets.length > 0 ? 1 : 0);
