import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The `ops-tracker` bin script, run as a real process. */
export const trackerBin = fileURLToPath(new URL('../bin/ops-tracker.mjs', import.meta.url));

const repository = fileURLToPath(new URL('../../../', import.meta.url));

/** What a finished tracker process left behind. */
export interface TrackerRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A fresh data folder under the repository's `.tmp/tests`, removed by `cleanup()`. */
export function dataFolder(name: string): { dir: string; cleanup(): void } {
  const dir = join(repository, '.tmp', 'tests', 'ops-tracker', `${name}-${randomUUID().slice(0, 8)}`);
  mkdirSync(dir, { recursive: true });
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `ops-tracker <args>` on a data folder, with no stdin and no colour, to the end. */
export function runTracker(
  dataDir: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<TrackerRun> {
  const inherited = { ...process.env };
  for (const name of Object.keys(inherited)) {
    if (name.startsWith('OPS_TRACKER_') || name.startsWith('PLUGBOARD_')) delete inherited[name];
  }
  delete inherited.FORCE_COLOR;
  const child = spawn(process.execPath, [trackerBin, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...inherited, NO_COLOR: '1', OPS_TRACKER_DATA: dataDir, OPS_TRACKER_OPERATOR: 'tester', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The result a finished task printed on its `result:` line. */
export function resultOf(run: TrackerRun): unknown {
  const line = run.stdout.split('\n').find((l) => / result: /.test(l));
  if (!line) throw new Error(`no result line in:\n${run.stdout}\n${run.stderr}`);
  return JSON.parse(line.slice(line.indexOf(' result: ') + ' result: '.length));
}

/** Parses RFC 4180 CSV: quoted fields may hold the delimiter, doubled quotes and line breaks. */
export function parseCsv(text: string, delimiter = ','): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === delimiter) {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
