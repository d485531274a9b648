// Shared helpers of the benchmark scripts: rounds, medians, the result protocol and the table.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const scratchRoot = join(root, '.tmp', 'bench');

/** True when the suite runs once in its short mode (CI proves the scripts work; figures are not meaningful). */
export const short = process.argv.includes('--short') || process.env.BENCH_SHORT === '1';

/** Whether a figure of a script runs: all by default, or those named in BENCH_FIGURES (comma-separated). */
export function want(name) {
  const only = process.env.BENCH_FIGURES;
  return !only || only.split(',').includes(name);
}

/** Picks the full or the short size of a benchmark parameter. */
export const size = (full, quick) => (short ? quick : full);

/** The median of a list of numbers. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The p-th percentile (0-100) of a list of numbers, nearest rank. */
export function percentile(values, p) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/**
 * Runs `warmup` unrecorded rounds, then `rounds` recorded ones, alternating the candidate and the baseline so
 * that a noisy neighbour hurts both alike. Each function returns its figure for one round.
 */
export async function compare({ candidate, baseline, rounds = size(7, 2), warmup = size(2, 1) }) {
  const c = [];
  const b = [];
  for (let i = 0; i < warmup + rounds; i++) {
    const bv = await baseline();
    const cv = await candidate();
    if (i >= warmup) {
      c.push(cv);
      b.push(bv);
    }
  }
  return { candidate: median(c), baseline: median(b), candidateRounds: c, baselineRounds: b };
}

/**
 * Like {@link compare} for any number of contenders (an object of name -> function): each round runs them all in
 * turn, and each figure is the median of its rounds.
 */
export async function compareMany(contenders, { rounds = size(7, 2), warmup = size(2, 1) } = {}) {
  const names = Object.keys(contenders);
  const figures = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < warmup + rounds; i++) {
    for (const name of names) {
      const value = await contenders[name]();
      if (i >= warmup) figures[name].push(value);
    }
  }
  return Object.fromEntries(names.map((n) => [n, median(figures[n])]));
}

/**
 * One row of the result table. `higherIsBetter` decides how the ratio is compared with `target`
 * (for example `{ min: 0.5 }` or `{ max: 1.5 }`); rows without a target only report.
 */
export function row({ figure, value, unit, baseline, baselineValue, ratio, target, notes, met: given }) {
  let met = given ?? null;
  if (
    target &&
    (target.min !== undefined || target.max !== undefined) &&
    typeof ratio === 'number' &&
    Number.isFinite(ratio)
  ) {
    met =
      (target.min === undefined || ratio >= target.min) && (target.max === undefined || ratio <= target.max);
  }
  return {
    figure,
    value,
    unit,
    baseline: baseline ?? null,
    baselineValue: baselineValue ?? null,
    ratio: ratio ?? null,
    target: target ? targetText(target) : 'report',
    met,
    notes: notes ?? null,
  };
}

function targetText(target) {
  if (target.text) return target.text;
  if (target.min !== undefined && target.max !== undefined) return `${target.min}x - ${target.max}x`;
  if (target.min !== undefined) return `>= ${target.min}x`;
  return `<= ${target.max}x`;
}

const MARK = 'PLUGBOARD_BENCH_ROWS ';

/** Hands the rows to the runner (one marked line) or, when the script runs alone, prints the table. */
export function emit(rows) {
  if (process.env.PLUGBOARD_BENCH_CHILD === '1') {
    process.stdout.write(`${MARK}${JSON.stringify(rows)}\n`);
  } else {
    process.stdout.write(`${formatTable(rows)}\n`);
  }
}

/** Reads the rows a benchmark script printed. */
export function parseRows(stdout) {
  const line = stdout.split('\n').find((l) => l.startsWith(MARK));
  return line ? JSON.parse(line.slice(MARK.length)) : null;
}

/** Formats a number for the table: three significant digits, thousands grouped. */
export function fmt(value) {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** The result table in Markdown, so it can be pasted into docs/performance.md as is. */
export function formatTable(rows) {
  const head = ['figure', 'value', 'baseline', 'ratio', 'target', 'met'];
  const lines = rows.map((r) => [
    r.figure,
    `${fmt(r.value)} ${r.unit}`,
    r.baseline ? `${r.baseline}: ${fmt(r.baselineValue)}` : '-',
    r.ratio === null ? '-' : `${fmt(r.ratio)}x`,
    r.target,
    r.met === null ? '-' : r.met ? 'yes' : 'NO',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmtLine = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [fmtLine(head), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...lines.map(fmtLine)].join(
    '\n',
  );
}

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds a package's dist with tsup when it is missing or older than its sources. */
export function ensureBuilt(name) {
  const dir = join(root, 'packages', name);
  const dist = join(dir, 'dist', 'index.js');
  if (existsSync(dist) && statSync(dist).mtimeMs >= newestMtime(join(dir, 'src'))) return;
  const result = spawnSync('npx', ['tsup', '--silent'], { cwd: dir, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`Building @plugboard/${name} failed.`);
}

/** A fresh scratch folder for one benchmark. */
export function scratch(name) {
  const dir = join(scratchRoot, `${name}-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
