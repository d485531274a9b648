// What tracing costs the host.execute path: with `@opentelemetry/api` and no SDK installed (every host's default)
// against `openTelemetry: false` (no span, no metric, no context captured), both in the same run; and, for
// reference, with an SDK recording every span into memory.
import { compare, emit, ensureBuilt, row, size, want } from './lib.mjs';

ensureBuilt('core');
const { createHost, memoryStore } = await import('@plugboard/core');

const { CONCURRENCY, IN_FLIGHT, NoopPlugin } = await import('./noop-plugin.mjs');

/** Executions per second through host.execute, as concurrent callers submit them. */
async function throughHost(count, openTelemetry) {
  const host = createHost({
    plugins: { classes: [NoopPlugin] },
    store: memoryStore(),
    concurrency: CONCURRENCY,
    argv: [],
    env: false,
    ...(openTelemetry === undefined ? {} : { openTelemetry }),
  });
  await host.start();
  let finished = 0;
  const done = new Promise((resolve) =>
    host.events.on('task:finished', () => {
      if (++finished === count) resolve();
    }),
  );
  const user = { id: 'bench', permissions: [] };
  const t0 = performance.now();
  let submitted = 0;
  const caller = async () => {
    while (submitted < count) {
      submitted++;
      await host.execute('noop', { label: 'run' }, { user });
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, caller));
  await done;
  const rate = (count / (performance.now() - t0)) * 1000;
  await host.stop({ timeoutMs: 1000 });
  return rate;
}

const rows = [];
const count = size(10_000, 500);

if (want('no-sdk')) {
  const r = await compare({
    rounds: size(9, 2),
    candidate: () => throughHost(count, undefined),
    baseline: () => throughHost(count, false),
  });
  rows.push(
    row({
      figure: 'tracing, OpenTelemetry API without an SDK',
      value: r.candidate,
      unit: 'tasks/s',
      baseline: 'openTelemetry: false',
      baselineValue: r.baseline,
      ratio: r.candidate / r.baseline,
      target: { min: 0.9 },
      notes: `${count} executions a round through host.execute, ${IN_FLIGHT} callers, memory store`,
    }),
  );
}

if (want('sdk')) {
  const { context } = await import('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = await import(
    '@opentelemetry/sdk-trace-base'
  );
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const r = await compare({
    rounds: size(5, 1),
    candidate: async () => {
      const rate = await throughHost(count, { tracerProvider });
      exporter.reset();
      return rate;
    },
    baseline: () => throughHost(count, false),
  });
  rows.push(
    row({
      figure: 'tracing, SDK recording every span',
      value: r.candidate,
      unit: 'tasks/s',
      baseline: 'openTelemetry: false',
      baselineValue: r.baseline,
      ratio: r.candidate / r.baseline,
      notes: 'two spans a task (execute, attempt) into an in-memory exporter, async-hooks context manager',
    }),
  );
  await tracerProvider.shutdown();
}

emit(rows);
