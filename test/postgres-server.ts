// Shared by the PostgreSQL store's tests, the distributed example's test and the PostgreSQL benchmark.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const setupSystem = fileURLToPath(new URL('../scripts/setup-system.mjs', import.meta.url));

/**
 * The server runs under a small shell that stops it (fast shutdown) once the shell's stdin closes: when the test
 * stops it, and also when the test process dies without stopping it, so no server is left behind.
 */
const WATCHED = 'exec 3<&0; "$0" "$@" & r=$!; { read -r _ <&3; kill -INT "$r"; } 2>/dev/null & wait "$r"';

/** A throwaway PostgreSQL cluster started for a test on a free loopback port. */
export interface TestPostgresServer {
  readonly port: number;
  /** A connection string that reaches the cluster's `postgres` database. */
  readonly url: string;
  /** Stops the server, keeping its data folder, so `start()` brings the same cluster back. */
  stop(): Promise<void>;
  /** Starts the stopped server again on the same port. */
  start(): Promise<void>;
  /** Stops the server and deletes the cluster. */
  remove(): Promise<void>;
}

/** Asks the kernel for a free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port was assigned'));
      });
    });
  });
}

/** The newest Debian PostgreSQL's binaries folder, `/usr/lib/postgresql/<version>/bin`. */
function binaries(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** PostgreSQL refuses to run as root: as root, the cluster is owned by and run as the `postgres` system user. */
function runAs(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  let uid = id('-u');
  if (uid.status !== 0) {
    spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    uid = id('-u');
  }
  const gid = id('-g');
  if (uid.status !== 0 || gid.status !== 0) throw new Error('no `postgres` system user to run PostgreSQL as');
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * Creates a throwaway cluster with Debian's `initdb` (PostgreSQL is installed with apt-get by
 * scripts/setup-system.mjs when missing) in a temp folder, starts it on a free loopback port with fsync off, and
 * waits until it answers a query.
 */
export async function startPostgresServer(): Promise<TestPostgresServer> {
  let bin = binaries();
  if (!bin) {
    spawnSync(process.execPath, [setupSystem], { stdio: 'inherit' });
    bin = binaries();
  }
  if (!bin) {
    throw new Error(
      'PostgreSQL is missing and could not be installed: run `node scripts/setup-system.mjs` as root.',
    );
  }
  const user = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'plugboard-postgres-'));
  const data = join(dir, 'data');
  if (user) {
    chmodSync(dir, 0o777);
  }
  const initdb = spawnSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '--encoding=UTF8', '--locale=C'],
    { encoding: 'utf8', ...(user ?? {}) },
  );
  if (initdb.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed:\n${initdb.stdout}\n${initdb.stderr}`);
  }
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let child: ChildProcess | undefined;
  let output = '';

  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running) return;
    running.stdin?.end();
    if (!(await exited(running, 10_000))) {
      running.kill('SIGKILL');
      await exited(running, 5000);
    }
  };

  const start = async () => {
    if (child) return;
    output = '';
    child = spawn(
      '/bin/sh',
      [
        '-c',
        WATCHED,
        join(bin, 'postgres'),
        '-D',
        data,
        '-p',
        String(port),
        '-h',
        '127.0.0.1',
        '-k',
        dir,
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=200',
      ],
      { stdio: ['pipe', 'pipe', 'pipe'], ...(user ?? {}) },
    );
    const collect = (chunk: Buffer) => {
      output += chunk;
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (!child || child.exitCode !== null) break;
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
      client.on('error', () => {});
      try {
        await client.connect();
        await client.query('SELECT 1');
        await client.end();
        return;
      } catch {
        await client.end().catch(() => {});
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await stop();
    throw new Error(`PostgreSQL did not answer on port ${port} within 30 s:\n${output}`);
  };

  const remove = async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await start();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return { port, url, stop, start, remove };
}
