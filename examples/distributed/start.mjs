#!/usr/bin/env node
// The one command: starts a local redis-server on a free loopback port (unless REDIS_PORT names a running one),
// one API process with the monitor page and two worker processes, and stops them all on Ctrl+C or SIGTERM: the
// API first, then the workers (which drain their running tasks), then Redis.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';

const here = fileURLToPath(new URL('.', import.meta.url));

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Copies a child's output line by line, each line prefixed with the child's name. */
function relay(name, child) {
  for (const [from, to] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ]) {
    let partial = '';
    from.setEncoding('utf8');
    from.on('data', (chunk) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line) to.write(`[${name}] ${line}\n`);
    });
    from.on('end', () => {
      if (partial) to.write(`[${name}] ${partial}\n`);
    });
  }
  return child;
}

/** A Node process of the example; over its IPC channel it notices if this script dies without stopping it. */
function startProcess(name, role, env) {
  const child = spawn(process.execPath, ['src/process.mjs', role], {
    cwd: here,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  return relay(name, child);
}

/**
 * redis-server under a small shell that stops it once its stdin closes: when this script stops, or dies, Redis
 * goes with it. It runs in a process group of its own, so Ctrl+C in the terminal does not stop it before the API
 * and the workers have stopped.
 */
function startRedis(port) {
  const script = 'exec 3<&0; redis-server "$@" & r=$!; { read -r _ <&3; kill "$r"; } 2>/dev/null & wait "$r"';
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const child = spawn('/bin/sh', ['-c', script, 'redis', ...args], {
    env: { ...process.env, PATH: `/usr/bin:${process.env.PATH ?? ''}` },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  return relay('redis', child);
}

function exited(child) {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', resolve));
}

async function waitForRedis(port) {
  for (let i = 0; i < 200; i++) {
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
      await client.ping();
      client.disconnect();
      return;
    } catch {
      client.disconnect();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`redis-server did not answer on port ${port}`);
}

let redisPort = process.env.REDIS_PORT;
let redis;
if (!redisPort) {
  redisPort = String(await freePort());
  redis = startRedis(redisPort);
}
await waitForRedis(Number(redisPort));
const env = { REDIS_PORT: redisPort };
const workers = [startProcess('worker 1', 'worker', env), startProcess('worker 2', 'worker', env)];
const api = startProcess('api', 'api', env);

let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  api.kill('SIGTERM');
  await exited(api);
  for (const worker of workers) worker.kill('SIGTERM');
  await Promise.all(workers.map(exited));
  if (redis) {
    redis.stdin.end();
    await exited(redis);
  }
  process.exit(code);
}
process.on('SIGINT', () => stop());
process.on('SIGTERM', () => stop());
// Started by a test (or any parent) over IPC: stop when that parent goes away.
if (process.connected) process.once('disconnect', () => stop());
for (const child of [api, ...workers]) {
  child.once('exit', (code) => {
    if (stopping) return;
    console.error(`a process exited unexpectedly (code ${code}); stopping the others`);
    stop(1);
  });
}
