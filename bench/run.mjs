#!/usr/bin/env node
// `npm run bench`: runs every bench/*.bench.mjs in its own process, prints one table and writes the figures as
// JSON to bench/results/ so two commits can be compared. `--short` runs each once at a small size (CI uses it
// to prove the scripts work; its figures mean little). `--only name,name` runs some scripts.
// Figures report; a missed target does not fail the run. A script that crashes does.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt, formatTable, parseRows, root, short } from './lib.mjs';

const only = process.argv
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const benchDir = join(root, 'bench');
const scripts = readdirSync(benchDir)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => !only || only.includes(f.replace('.bench.mjs', '')))
  .sort();

// Build once up front so no script pays for a build inside its measurements.
for (const name of ['core', 'sqlite', 'http', 'express']) ensureBuilt(name);

function runScript(file) {
  return new Promise((resolve) => {
    const args = ['--expose-gc', join(benchDir, file), ...(short ? ['--short'] : [])];
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: { ...process.env, PLUGBOARD_BENCH_CHILD: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const t0 = performance.now();
    child.on('exit', (code) => resolve({ code, stdout, stderr, seconds: (performance.now() - t0) / 1000 }));
  });
}

const rows = [];
const failures = [];
for (const file of scripts) {
  process.stderr.write(`bench: ${file}${short ? ' (short)' : ''} ... `);
  const result = await runScript(file);
  const parsed = result.code === 0 ? parseRows(result.stdout) : null;
  if (!parsed) {
    process.stderr.write(`failed (exit ${result.code})\n${result.stderr}\n`);
    failures.push(file);
    continue;
  }
  process.stderr.write(`${result.seconds.toFixed(1)} s\n`);
  rows.push(...parsed.map((r) => ({ ...r, script: file })));
}

process.stdout.write(`\n${formatTable(rows)}\n`);
const notes = rows.filter((r) => r.notes).map((r) => `- ${r.figure}: ${r.notes}`);
if (notes.length > 0) process.stdout.write(`\n${notes.join('\n')}\n`);

let commit = null;
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
} catch {
  // Not a git checkout: the results still say when and where they were measured.
}
const results = {
  date: new Date().toISOString(),
  commit,
  short,
  node: process.version,
  cpus: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  rows,
  failures,
};
const dir = join(benchDir, 'results');
mkdirSync(dir, { recursive: true });
const stamp = results.date.replace(/[:.]/g, '-');
writeFileSync(join(dir, `${stamp}${short ? '-short' : ''}.json`), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(
  join(dir, short ? 'latest-short.json' : 'latest.json'),
  `${JSON.stringify(results, null, 2)}\n`,
);
process.stdout.write(`\nResults written to bench/results/${short ? 'latest-short.json' : 'latest.json'}\n`);
if (failures.length > 0) {
  process.stderr.write(`bench: ${failures.length} script(s) failed: ${failures.join(', ')}\n`);
  process.exit(1);
}
