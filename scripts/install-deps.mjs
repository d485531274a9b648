// Installs the repository's npm packages when they are missing or older than package-lock.json, as a fresh clone
// needs before anything runs: `npm ci`, or `npm install` (which keeps the locked versions) when npm refuses the
// lock file (npm 11 writes it without other platforms' optional binaries).
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
 * when both installs failed.
 */
export function installIfNeeded(run) {
  if (!needsInstall()) return true;
  return (
    run('install npm packages (npm ci)', 'npm', ['ci', '--no-audit', '--no-fund']) ||
    run('install npm packages (npm install)', 'npm', ['install', '--no-audit', '--no-fund'])
  );
}

/** Runs a command in the repository root with the terminal's output; true when it exits 0. */
export function runStep(title, command, args, options = {}) {
  process.stdout.write(`\n▶ ${title}\n`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: process.env, ...options });
  const ok = result.status === 0;
  process.stdout.write(`${ok ? '✔' : '✖'} ${title}\n`);
  return ok;
}
