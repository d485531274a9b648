#!/usr/bin/env node
// Combines several `npm run bench` result files into one table: for each figure, the row of the run whose ratio
// (or value, for a row without a baseline) is the median, so each row's value, baseline, ratio and verdict come
// from one run, and a last column with every run's figure, so the spread shows.
//   node bench/combine.mjs bench/results/<a>.json bench/results/<b>.json bench/results/<c>.json
import { readFileSync } from 'node:fs';
import { fmt, formatTable } from './lib.mjs';

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write('usage: node bench/combine.mjs <results.json>...\n');
  process.exit(2);
}
const runs = files.map((file) => JSON.parse(readFileSync(file, 'utf8')));
const figures = [];
const byFigure = new Map();
for (const run of runs) {
  for (const row of run.rows) {
    if (!byFigure.has(row.figure)) {
      byFigure.set(row.figure, []);
      figures.push(row.figure);
    }
    byFigure.get(row.figure).push(row);
  }
}
const measure = (row) => (typeof row.ratio === 'number' ? row.ratio : row.value);
const rows = [];
const spreads = [];
for (const figure of figures) {
  const all = byFigure.get(figure);
  const sorted = [...all].sort((a, b) => measure(a) - measure(b));
  const median = sorted[(sorted.length - 1) >> 1];
  rows.push(median);
  const unit = typeof median.ratio === 'number' ? 'x' : ` ${median.unit}`;
  spreads.push(`- ${figure}: ${all.map((r) => `${fmt(measure(r))}${unit}`).join(', ')}`);
}
const where = runs.map((r) => `${r.date} (${r.commit ?? 'no commit'})`).join(', ');
process.stdout.write(
  `Median of ${runs.length} runs: ${where}\n\n${formatTable(rows)}\n\nEach run:\n${spreads.join('\n')}\n`,
);
