// Server-sent events: CLIENTS clients follow GET /events while tasks run; how many events reach clients per
// second and how long after a task finished its `task:finished` event reaches each client (p99).
import http from 'node:http';
import { emit, ensureBuilt, percentile, row, size, sleep } from './lib.mjs';

ensureBuilt('core');
ensureBuilt('express');
const { startServer } = await import('./http.bench.mjs');

const CLIENTS = size(1000, 100);
const EXECUTIONS_PER_SECOND = size(20, 10);
const SECONDS = size(5, 1);

const server = await startServer('plugboard');
const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS + 10 });
const lags = [];
let delivered = 0;
let expectedFinished = 0;
let finishedSeen = 0;

function follow() {
  return new Promise((resolve, reject) => {
    const req = http.get(
      {
        host: '127.0.0.1',
        port: server.port,
        path: '/plugboard/events',
        agent,
        headers: { accept: 'text/event-stream' },
      },
      (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`GET /events answered ${res.statusCode}`));
          return;
        }
        res.setEncoding('utf8');
        let buffer = '';
        res.on('data', (chunk) => {
          buffer += chunk;
          let end = buffer.indexOf('\n\n');
          while (end !== -1) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            end = buffer.indexOf('\n\n');
            if (frame.includes('event: ready')) {
              resolve(req);
              continue;
            }
            if (!frame.includes('event: task:')) continue;
            delivered++;
            if (frame.includes('event: task:finished')) {
              const data = JSON.parse(frame.slice(frame.indexOf('data: ') + 6));
              lags.push(Date.now() - data.finishedAt);
              finishedSeen++;
            }
          }
        });
      },
    );
    req.on('error', reject);
  });
}

const requests = [];
for (let i = 0; i < CLIENTS; i += 50) {
  requests.push(...(await Promise.all(Array.from({ length: Math.min(50, CLIENTS - i) }, follow))));
}

async function execute() {
  const body = JSON.stringify({ args: { label: 'sse' } });
  await new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: server.port,
        path: '/plugboard/plugins/noop/execute',
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 202 ? resolve() : reject(new Error(`execute: ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const t0 = performance.now();
for (let s = 0; s < SECONDS; s++) {
  const tick = performance.now();
  for (let i = 0; i < EXECUTIONS_PER_SECOND; i++) {
    await execute();
    expectedFinished += CLIENTS;
    await sleep(1000 / EXECUTIONS_PER_SECOND / 2);
  }
  await sleep(Math.max(0, 1000 - (performance.now() - tick)));
}
// Wait for the last events to arrive (bounded).
const deadline = Date.now() + 10_000;
while (finishedSeen < expectedFinished && Date.now() < deadline) await sleep(50);
const seconds = (performance.now() - t0) / 1000;
for (const req of requests) req.destroy();
agent.destroy();
await server.stop();

emit([
  row({
    figure: `SSE: ${CLIENTS.toLocaleString('en-US')} clients, events delivered`,
    value: delivered / seconds,
    unit: 'events/s',
    notes: `${EXECUTIONS_PER_SECOND} executions/s for ${SECONDS} s, 3 task events each; ${finishedSeen} of ${expectedFinished} task:finished deliveries arrived`,
    met: finishedSeen === expectedFinished ? null : false,
  }),
  row({
    figure: 'SSE: p99 delivery lag of task:finished',
    value: percentile(lags, 99),
    unit: 'ms',
    notes: `median ${percentile(lags, 50)} ms`,
  }),
]);
