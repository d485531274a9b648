#!/usr/bin/env node
// `npm run test:mutation [-- name-filter...]`: runs Stryker once per target of stryker.config.mjs (each target's
// files mutated against its own tests), then prints the score per file and the surviving mutants, and writes
// them to .tmp/mutation/summary.json. Exits non-zero when a file scores below the target (85% killed).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root);
const TARGET = 85;

const { Stryker } = await import('@stryker-mutator/core');
const config = await import(join(root, 'stryker.config.mjs'));
const base = config.default;
const filters = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const chosen = config.targets.filter(
  (t) => filters.length === 0 || filters.some((f) => t.name.toLowerCase().includes(f.toLowerCase())),
);
if (chosen.length === 0) {
  console.error(`No target matches ${filters.join(', ')}; the targets are:`);
  for (const t of config.targets) console.error(`  ${t.name}`);
  process.exit(2);
}

const KILLED = new Set(['Killed', 'Timeout']);
const rows = [];
const survivors = [];
const began = Date.now();
for (const target of chosen) {
  const started = Date.now();
  console.log(`\n=== ${target.name}: ${target.mutate.join(', ')}`);
  const reportFile = `.tmp/mutation/${target.name.replace(/[^\w]+/g, '-')}.json`;
  const stryker = new Stryker({
    ...base,
    mutate: target.mutate,
    testFiles: target.tests,
    jsonReporter: { fileName: reportFile },
    // A sandbox of its own, so two runs (of different targets) can go at once.
    tempDirName: `.tmp/stryker-${process.pid}`,
  });
  const results = await stryker.runMutationTest();
  const seconds = Math.round((Date.now() - started) / 1000);
  const byFile = new Map();
  for (const r of results) {
    const file = r.fileName.startsWith(root) ? r.fileName.slice(root.length) : r.fileName;
    const counts = byFile.get(file) ?? { killed: 0, survived: 0, noCoverage: 0, other: 0 };
    if (KILLED.has(r.status)) counts.killed++;
    else if (r.status === 'Survived') counts.survived++;
    else if (r.status === 'NoCoverage') counts.noCoverage++;
    else counts.other++;
    byFile.set(file, counts);
    if (r.status === 'Survived' || r.status === 'NoCoverage') {
      survivors.push({
        file,
        line: r.location.start.line,
        mutator: r.mutatorName,
        status: r.status,
        replacement: r.replacement,
      });
    }
  }
  for (const [file, c] of byFile) {
    const total = c.killed + c.survived + c.noCoverage;
    rows.push({
      target: target.name,
      file,
      ...c,
      score: total === 0 ? 100 : (100 * c.killed) / total,
      seconds,
    });
  }
}

const minutes = ((Date.now() - began) / 60_000).toFixed(1);
console.log(
  `\nMutation score per file (killed / (killed + survived + no coverage)), ${minutes} min in all:\n`,
);
const width = Math.max(...rows.map((r) => r.file.length));
console.log(`${'file'.padEnd(width)}  score   killed survived no-cov  (target run, s)`);
for (const r of rows) {
  console.log(
    `${r.file.padEnd(width)}  ${r.score.toFixed(1).padStart(5)}%  ${String(r.killed).padStart(6)} ${String(r.survived).padStart(8)} ${String(r.noCoverage).padStart(6)}  (${r.seconds})`,
  );
}
const killed = rows.reduce((n, r) => n + r.killed, 0);
const total = rows.reduce((n, r) => n + r.killed + r.survived + r.noCoverage, 0);
console.log(
  `${'all'.padEnd(width)}  ${((100 * killed) / Math.max(total, 1)).toFixed(1).padStart(5)}%  ${killed}/${total}`,
);
if (survivors.length > 0) {
  console.log('\nSurviving mutants (file:line mutator -> replacement):');
  for (const s of survivors) {
    const text = String(s.replacement ?? '')
      .replace(/\s+/g, ' ')
      .slice(0, 90);
    console.log(
      `  ${s.file}:${s.line} ${s.mutator}${s.status === 'NoCoverage' ? ' (no test reaches it)' : ''} -> ${text}`,
    );
  }
}
mkdirSync(join(root, '.tmp', 'mutation'), { recursive: true });
writeFileSync(
  join(root, '.tmp', 'mutation', 'summary.json'),
  JSON.stringify({ minutes: Number(minutes), rows, survivors }, null, 2),
);
const below = rows.filter((r) => r.score < TARGET);
if (below.length > 0) {
  console.log(`\nBelow ${TARGET}%: ${below.map((r) => r.file).join(', ')}`);
  process.exit(1);
}
