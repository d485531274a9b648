// Requests per second of POST /plugins/:id/execute through the Express router (validation, authorisation, task
// creation, the runtime and the store) against a bare Express route doing the same validation, and through
// @plugboard/http's handler on node:http against a bare node:http route and against the same bare route through
// web-standard Request and Response (the floor of any handler on them). The servers run in their own processes;
// autocannon drives them over loopback.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { compare, compareMany, emit, ensureBuilt, row, size } from './lib.mjs';

ensureBuilt('core');
ensureBuilt('http');
ensureBuilt('express');

const serverScript = fileURLToPath(new URL('./http-server.mjs', import.meta.url));
const DURATION = size(5, 1);

/**
 * Starts a benchmark server and resolves with its port and a stop function. `BENCH_SERVER_FLAGS` passes Node flags
 * to the server process (for example `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it).
 */
export async function startServer(mode) {
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_SERVER_FLAGS ? process.env.BENCH_SERVER_FLAGS.split(' ') : []),
      serverScript,
      mode,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let buffer = '';
  const port = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`benchmark server exited with ${code}`)));
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      const match = /PORT (\d+)/.exec(buffer);
      if (match) resolve(Number(match[1]));
    });
  });
  return {
    port,
    stop: async () => {
      child.removeAllListeners('exit');
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

async function requestsPerSecond(mode) {
  const server = await startServer(mode);
  try {
    const result = await autocannon({
      url: `http://127.0.0.1:${server.port}/plugboard/plugins/noop/execute`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ args: { label: 'bench', count: 3 } }),
      connections: 32,
      duration: DURATION,
    });
    if (result.non2xx > 0 || result.errors > 0) {
      throw new Error(`${mode}: ${result.non2xx} non-2xx answers and ${result.errors} errors`);
    }
    return result.requests.average;
  } finally {
    await server.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const express = await compare({
    rounds: size(3, 1),
    warmup: size(1, 0),
    candidate: () => requestsPerSecond('plugboard'),
    baseline: () => requestsPerSecond('bare'),
  });
  const handler = await compareMany(
    {
      candidate: () => requestsPerSecond('handler'),
      baseline: () => requestsPerSecond('bare-node'),
      web: () => requestsPerSecond('bare-web'),
    },
    { rounds: size(3, 1), warmup: size(1, 0) },
  );
  const notes = `autocannon, 32 connections, ${DURATION} s a round; each request queues and runs a task`;
  emit([
    row({
      figure: 'HTTP: POST /plugins/:id/execute',
      value: express.candidate,
      unit: 'req/s',
      baseline: 'bare Express route, same validation',
      baselineValue: express.baseline,
      ratio: express.candidate / express.baseline,
      target: { min: 0.5 },
      notes,
    }),
    row({
      figure: 'HTTP: POST /plugins/:id/execute, handler on node:http',
      value: handler.candidate,
      unit: 'req/s',
      baseline: 'bare node:http route, same validation',
      baselineValue: handler.baseline,
      ratio: handler.candidate / handler.baseline,
      target: { min: 0.5 },
      notes,
    }),
    row({
      figure: 'HTTP floor: bare node:http route through web Request and Response',
      value: handler.web,
      unit: 'req/s',
      baseline: 'bare node:http route, same validation',
      baselineValue: handler.baseline,
      ratio: handler.web / handler.baseline,
      notes: `${notes}; the bare route with a web Request and Response around it`,
    }),
    row({
      figure: 'HTTP: handler on node:http against the web floor',
      value: handler.candidate,
      unit: 'req/s',
      baseline: 'bare route through web Request and Response',
      baselineValue: handler.web,
      ratio: handler.candidate / handler.web,
      notes,
    }),
  ]);
}
