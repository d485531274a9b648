#!/usr/bin/env node
// The one command: starts a local redis-server (unless REDIS_PORT names a running one), one API process and two
// worker processes, and stops them all on Ctrl+C or SIGTERM.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const children = [];

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

function start(name, command, args, env) {
  const child = spawn(command, args, {
    cwd: here,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = (chunk) =>
    String(chunk)
      .split('\n')
      .filter(Boolean)
      .map((line) => `[${name}] ${line}\n`)
      .join('');
  child.stdout.on('data', (chunk) => process.stdout.write(prefix(chunk)));
  child.stderr.on('data', (chunk) => process.stderr.write(prefix(chunk)));
  children.push(child);
  return child;
}

function exited(child) {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', resolve));
}

async function waitForRedis(port) {
  const { Redis } = await import('ioredis');
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
  redis = start(
    'redis',
    '/usr/bin/redis-server',
    ['--port', redisPort, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {},
  );
}
await waitForRedis(Number(redisPort));
const env = { REDIS_PORT: redisPort };
const workers = [
  start('worker 1', process.execPath, ['src/process.mjs', 'worker'], env),
  start('worker 2', process.execPath, ['src/process.mjs', 'worker'], env),
];
const api = start('api', process.execPath, ['src/process.mjs', 'api'], env);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  // The API first, then the workers drain, then Redis.
  api.kill('SIGTERM');
  await exited(api);
  for (const worker of workers) worker.kill('SIGTERM');
  await Promise.all(workers.map(exited));
  if (redis) {
    redis.kill('SIGTERM');
    await exited(redis);
  }
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
for (const child of [api, ...workers]) {
  child.once('exit', (code) => {
    if (!stopping) {
      console.error(`a process exited unexpectedly (code ${code}); stopping the others`);
      stop();
    }
  });
}
