// Installs the repository's npm packages with `npm ci` when they are missing or older than package-lock.json, as a
// fresh clone needs before anything runs. It never falls back to `npm install`: that would rewrite the committed lock.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** True when node_modules is missing or older than package-lock.json. */
export function needsInstall() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  if (!existsSync(marker)) return true;
  return statSync(join(root, 'package-lock.json')).mtimeMs > statSync(marker).mtimeMs;
}

/**
 * Installs when needed; `run(title, command, args)` runs one step and returns whether it succeeded. Returns false
 * when `npm ci` failed.
 */
export function installIfNeeded(run) {
  if (!needsInstall()) return true;
  return run('install npm packages (npm ci)', 'npm', ['ci', '--no-audit', '--no-fund']);
}

/** Runs a command in the repository root with the terminal's output; true when it exits 0. */
export function runStep(title, command, args, options = {}) {
  process.stdout.write(`\n▶ ${title}\n`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: process.env, ...options });
  const ok = result.status === 0;
  process.stdout.write(`${ok ? '✔' : '✖'} ${title}\n`);
  return ok;
}
