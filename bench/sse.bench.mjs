// Server-sent events: CLIENTS clients follow GET /events of @plugboard/http's handler on node:http while tasks
// run. The execution rate climbs step by step; a step is sustained when every client received every
// `task:finished` of the step and the p99 lag from a task's end to its event reaching a client stayed under
// LAG_LIMIT_MS. Reports the largest event rate delivered in a sustained step (not the offered load) and the
// server's CPU time per frame delivered there (everything the server did, divided by the frames).
import http from 'node:http';
import { emit, ensureBuilt, percentile, row, size, sleep } from './lib.mjs';

ensureBuilt('core');
ensureBuilt('http');
ensureBuilt('express');
const { startServer } = await import('./http.bench.mjs');

const CLIENTS = size(1000, 100);
// Executions per second, 3 task events each: doubling up to 80, then by halves, so the largest sustained rate
// does not move by a factor of two on one step's noise.
const RATES = size([5, 10, 20, 40, 80, 120, 160, 240, 320], [10, 40]);
const STEP_SECONDS = size(3, 1);
const LAG_LIMIT_MS = 100;

const server = await startServer('handler');
const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS + 10 });

/** Callbacks waiting for one task's `task:finished` to reach a client, by task id (the latency figure). */
const finishedSeen = new Map();
/** When the last few `task:finished` frames arrived, by task id. */
const lastFinished = new Map();
const LATENCY_RUNS = size(200, 20);

/** What the clients saw during the current step. */
let step = { lags: [], delivered: 0, finished: 0 };

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
            step.delivered++;
            if (frame.includes('event: task:finished')) {
              const data = JSON.parse(frame.slice(frame.indexOf('data: ') + 6));
              step.lags.push(Date.now() - data.finishedAt);
              step.finished++;
              const at = performance.now();
              lastFinished.set(data.id, at);
              if (lastFinished.size > 100) lastFinished.delete(lastFinished.keys().next().value);
              finishedSeen.get(data.id)?.(at);
            }
          }
        });
      },
    );
    req.on('error', reject);
  });
}

function request(path, method = 'GET', body) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: server.port,
        path,
        method,
        headers: body
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
          : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const cpuMicros = async () => Number((await request('/cpu')).text);

async function execute() {
  const { status } = await request('/plugboard/plugins/noop/execute', 'POST', '{"args":{"label":"sse"}}');
  if (status !== 202) throw new Error(`execute: ${status}`);
}

/** Runs one step at `rate` executions per second; resolves with what it measured. */
async function runStep(rate) {
  step = { lags: [], delivered: 0, finished: 0 };
  const cpu0 = await cpuMicros();
  const t0 = performance.now();
  const total = rate * STEP_SECONDS;
  const inflight = [];
  for (let i = 0; i < total; i++) {
    // Executions leave on schedule whether or not earlier ones were answered: the offered load stays `rate`.
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    inflight.push(execute());
  }
  await Promise.all(inflight);
  const expected = total * CLIENTS;
  const deadline = Date.now() + 5000;
  while (step.finished < expected && Date.now() < deadline) await sleep(20);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = (await cpuMicros()) - cpu0;
  return {
    rate,
    eventsPerSecond: step.delivered / seconds,
    p99: percentile(step.lags, 99),
    p50: percentile(step.lags, 50),
    complete: step.finished === expected,
    cpuPerFrame: cpu / Math.max(1, step.delivered),
  };
}

const requests = [];
for (let i = 0; i < CLIENTS; i += 50) {
  requests.push(...(await Promise.all(Array.from({ length: Math.min(50, CLIENTS - i) }, follow))));
}

// A first step, not reported, lets the server and the clients warm up (JIT, freshly opened connections).
await runStep(RATES[0]);
const steps = [];
for (const rate of RATES) {
  const result = await runStep(rate);
  steps.push(result);
  if (!result.complete || result.p99 >= LAG_LIMIT_MS) break;
}
// Latency: one execution at a time, from sending `POST /execute` to its task's `task:finished` reaching a client,
// with one client connected (the others leave first, so the figure is the path rather than the fan-out).
for (const req of requests.slice(1)) req.destroy();
const latencies = [];
for (let i = 0; i < LATENCY_RUNS; i++) {
  const t0 = performance.now();
  let seen;
  const arrived = new Promise((resolve) => {
    seen = resolve;
  });
  const { status, text } = await request(
    '/plugboard/plugins/noop/execute',
    'POST',
    '{"args":{"label":"latency"}}',
  );
  if (status !== 202) throw new Error(`execute: ${status}`);
  const id = JSON.parse(text).tasks[0].id;
  finishedSeen.set(id, seen);
  // The frame may have arrived before the answer was read: the clients keep the last frames' ids.
  if (lastFinished.has(id)) seen(lastFinished.get(id));
  latencies.push((await arrived) - t0);
  finishedSeen.delete(id);
}
requests[0].destroy();
agent.destroy();
await server.stop();

const sustained = steps.filter((s) => s.complete && s.p99 < LAG_LIMIT_MS).at(-1);
const tried = steps
  .map(
    (s) =>
      `${s.rate}/s: p50 ${s.p50} ms, p99 ${s.p99} ms, ${s.cpuPerFrame.toFixed(2)} µs a frame${s.complete ? '' : ', incomplete'}`,
  )
  .join('; ');
emit([
  row({
    figure: `SSE: ${CLIENTS.toLocaleString('en-US')} clients, largest event rate with p99 lag < ${LAG_LIMIT_MS} ms`,
    value: sustained?.eventsPerSecond ?? 0,
    unit: 'events/s',
    notes: `executions/s tried, ${STEP_SECONDS} s each after a warm-up step: ${tried}`,
    met: sustained === undefined ? false : null,
  }),
  row({
    figure: 'HTTP execute to task:finished on the event stream, p50',
    value: percentile(latencies, 50),
    unit: 'ms',
    notes: `${LATENCY_RUNS} executions one at a time, one client; includes the stream's eventBatchMs window (25 ms)`,
  }),
  row({
    figure: 'HTTP execute to task:finished on the event stream, p99',
    value: percentile(latencies, 99),
    unit: 'ms',
    notes: `${LATENCY_RUNS} executions one at a time, one client`,
  }),
  row({
    figure: 'SSE: server CPU per frame delivered',
    value: sustained?.cpuPerFrame ?? steps[0].cpuPerFrame,
    unit: 'µs',
    target: { text: '<= 2 µs' },
    notes: `at ${sustained?.rate ?? steps[0].rate} executions/s; all of the server's CPU (HTTP requests, tasks, events) over the frames`,
    met: (sustained?.cpuPerFrame ?? steps[0].cpuPerFrame) <= 2,
  }),
]);
