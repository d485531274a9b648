import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';

const setupSystem = fileURLToPath(new URL('../../../scripts/setup-system.mjs', import.meta.url));

/**
 * redis-server runs under a small shell that stops it once the shell's stdin closes: when the test stops it, and
 * also when the test process dies without stopping it (its end of the pipe closes with it), so no server is left.
 */
const WATCHED = 'exec 3<&0; "$0" "$@" & r=$!; { read -r _ <&3; kill "$r"; } 2>/dev/null & wait "$r"';

/** A `redis-server` started for a test on a free loopback port. */
export interface TestRedisServer {
  readonly port: number;
  /** ioredis options that reach it. */
  readonly connection: { readonly host: string; readonly port: number };
  stop(): Promise<void>;
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

/**
 * Starts Debian's `/usr/bin/redis-server` (installed with apt-get by scripts/setup-system.mjs when missing) on a
 * free loopback port, without persistence, and waits until it answers PING.
 */
export async function startRedisServer(binary = '/usr/bin/redis-server'): Promise<TestRedisServer> {
  if (!existsSync(binary)) spawnSync(process.execPath, [setupSystem], { stdio: 'inherit' });
  if (!existsSync(binary)) {
    throw new Error(
      `${binary} is missing and could not be installed: run \`node scripts/setup-system.mjs\` as root.`,
    );
  }
  const port = await freePort();
  const child = spawn(
    '/bin/sh',
    [
      '-c',
      WATCHED,
      binary,
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const stop = async () => {
    child.stdin?.end();
    if (!(await exited(child, 5000))) {
      child.kill('SIGKILL');
      await exited(child, 5000);
    }
  };
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    const client = new Redis({
      host: '127.0.0.1',
      port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => {});
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') {
        client.disconnect();
        return { port, connection: { host: '127.0.0.1', port }, stop };
      }
    } catch {
      // Not listening yet.
    }
    client.disconnect();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await stop();
  throw new Error(`redis-server did not answer PING on port ${port} within 10 s:\n${output}`);
}
