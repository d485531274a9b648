import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * What some tests need from the machine beyond Node. A test file asks with `hasTmux(...)` or `mountTmpfs(...)`
 * and skips its tests when
 * the answer is no; the reason is written where `npm test` (scripts/test.mjs) reads it, so that the skip is
 * printed with what is missing and how to install it, and counted as a failure in CI.
 */
export const SKIP_NOTES_DIR = fileURLToPath(new URL('../.tmp/test-skips/', import.meta.url));

/** One unmet requirement: what is missing and the command that installs it. */
export interface SkipNote {
  readonly requirement: string;
  readonly missing: string;
  readonly install: string;
  readonly file: string;
}

/**
 * Records that the tests of `file` are skipped for want of `requirement`, and says so on stderr at once.
 * Returns `false`, so a check can end with it: `return skipFor(...)`.
 */
export function skipFor(requirement: string, missing: string, install: string, file: string): false {
  const note: SkipNote = { requirement, missing, install, file };
  mkdirSync(SKIP_NOTES_DIR, { recursive: true });
  const name = `${requirement}-${file.replace(/[^\w.-]+/g, '_')}.json`;
  writeFileSync(`${SKIP_NOTES_DIR}${name}`, JSON.stringify(note));
  console.warn(`SKIPPED (${file}): ${missing}. Install: ${install}`);
  return false;
}

/** Whether `tmux` runs here; the terminal tests drive the CLI through it. */
export function hasTmux(file: string): boolean {
  if (spawnSync('tmux', ['-V']).status === 0) return true;
  return skipFor(
    'tmux',
    'tmux is not installed',
    '`sudo apt-get install tmux` (or `sudo node scripts/setup-system.mjs`)',
    file,
  );
}

/**
 * Mounts a tmpfs of `size` on `dir`, so a test can fill a disk or make it read-only. Needs root (CI runs as
 * root) and `mount` (Debian's `mount` package).
 */
export function mountTmpfs(dir: string, size: string, file: string): boolean {
  mkdirSync(dir, { recursive: true });
  if (process.getuid?.() !== 0) {
    return skipFor(
      'tmpfs',
      'mounting a tmpfs needs root, and these tests run as an ordinary user',
      'run them as root: `sudo npx vitest run packages/sqlite/test/disk-faults.test.ts`',
      file,
    );
  }
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return true;
  } catch (error) {
    const reason = String((error as { stderr?: unknown }).stderr ?? error).trim();
    return skipFor(
      'tmpfs',
      `a tmpfs could not be mounted (${reason || 'mount failed'})`,
      '`apt-get install mount` as root; in a container, run it with the SYS_ADMIN capability (`--cap-add SYS_ADMIN`)',
      file,
    );
  }
}

/** Whether Debian's Chromium is installed where the browser tests launch it. */
export function hasChromium(file: string, binary = '/usr/bin/chromium'): boolean {
  if (existsSync(binary)) return true;
  return skipFor(
    'chromium',
    `${binary} is not installed`,
    '`sudo apt-get install chromium` (or `sudo node scripts/setup-system.mjs`)',
    file,
  );
}

/** Whether Debian's redis-server is installed; the BullMQ tests start their own on a free loopback port. */
export function hasRedis(file: string, binary = '/usr/bin/redis-server'): boolean {
  if (existsSync(binary)) return true;
  return skipFor(
    'redis',
    `${binary} is not installed`,
    '`sudo apt-get install redis-server` (or `sudo node scripts/setup-system.mjs`)',
    file,
  );
}

/**
 * The folder of Debian's PostgreSQL server binaries (`initdb`, `postgres`), for tests that start their own
 * server; `undefined`, with the skip recorded, when none is installed.
 */
export function postgresBinDir(file: string): string | undefined {
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort() : [];
  const found = versions
    .map((v) => `/usr/lib/postgresql/${v}/bin`)
    .find((dir) => existsSync(`${dir}/postgres`));
  if (found) return found;
  skipFor(
    'postgres',
    'the PostgreSQL server (postgres, initdb) is not installed',
    '`sudo apt-get install postgresql` (or `sudo node scripts/setup-system.mjs`)',
    file,
  );
  return undefined;
}
