import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { context, type Span, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { bullmqRuntime, createWorker, type PlugboardWorker } from '@plugboard/bullmq';
import {
  ActionPlugin,
  createHost,
  type Host,
  type Static,
  Task,
  type TaskContext,
  Type,
} from '@plugboard/core';
import { plugboardRouter } from '@plugboard/express';
import express from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hasRedis } from '../../../test/requirements.js';
import { startRedisServer, type TestRedisServer } from './redis-server.js';

const redisHere = hasRedis('packages/bullmq/test/opentelemetry.test.ts');

const Args = Type.Object({ words: Type.Array(Type.String()) });

class CountTask extends Task<{ word: string }> {
  async run(ctx: TaskContext) {
    // Spans the task starts on the worker join the trace of the request that queued it.
    return trace.getTracer('plugin-code').startActiveSpan('count letters', async (span: Span) => {
      ctx.log.info(`counting ${this.input.word}`);
      span.end();
      return { letters: this.input.word.length };
    });
  }
}

class Count extends ActionPlugin({ id: 'count', name: 'Count', args: Args, tasks: [CountTask] }) {
  createTasks(args: Static<typeof Args>) {
    return args.words.map((word) => new CountTask({ word }));
  }
}

/** Reads the metrics on demand, as a Prometheus scrape would. */
class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

let redis: TestRedisServer;
beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(tracerProvider);
  if (redisHere) redis = await startRedisServer();
});
afterAll(async () => {
  trace.disable();
  context.disable();
  await tracerProvider.shutdown();
  await redis?.stop();
});

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  exporter.reset();
});

/**
 * An Express server with the Plugboard router behind a server span, as an HTTP instrumentation would open one: the
 * span is the active context for the request's handlers and for the events of its request and response.
 */
async function serve(host: Host): Promise<string> {
  const tracer = trace.getTracer('http-server');
  const app = express();
  app.use((req, res, next) => {
    const span = tracer.startSpan(`${req.method} /plugboard`, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': req.method, 'url.path': req.originalUrl },
    });
    const active = trace.setSpan(context.active(), span);
    context.bind(active, req);
    context.bind(active, res);
    res.on('finish', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      span.end();
    });
    context.with(active, next);
  });
  const router = plugboardRouter(host, { getUser: () => ({ id: 'ada' }) });
  app.use('/plugboard', router);
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  cleanups.push(async () => {
    router.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/plugboard`;
}

async function fleet(meterProvider?: MeterProvider): Promise<{ host: Host; worker: PlugboardWorker }> {
  const queue = `otel-${randomUUID()}`;
  const worker = createWorker({
    env: false,
    argv: [],
    plugins: { classes: [Count] },
    connection: redis.connection,
    queue,
  });
  await worker.start();
  const host = createHost({
    env: false,
    argv: [],
    plugins: { classes: [Count] },
    runtime: bullmqRuntime({ connection: redis.connection, queue }),
    ...(meterProvider ? { openTelemetry: { meterProvider } } : {}),
  });
  await host.start();
  cleanups.push(() => worker.stop({ timeoutMs: 500 }));
  cleanups.push(() => host.stop({ timeoutMs: 500 }));
  return { host, worker };
}

const spanId = (span: ReadableSpan) => span.spanContext().spanId;
const parentId = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const named = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name);

describe.skipIf(!redisHere)('OpenTelemetry across HTTP and BullMQ', () => {
  it('one execute over HTTP that runs a task on a BullMQ worker yields one trace with the spans in their parent chain', async () => {
    const { host } = await fleet();
    const url = await serve(host);
    const response = await fetch(`${url}/plugins/count/execute`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ args: { words: ['plugboard'] } }),
    });
    expect(response.status).toBe(202);
    const { tasks } = (await response.json()) as { tasks: Array<{ id: string }> };
    const record = await host.tasks.wait(tasks[0]!.id);
    expect(record).toMatchObject({ state: 'succeeded', result: { letters: 9 } });

    const [server] = named('POST /plugboard');
    const [execute] = named('execute count');
    const [attempt] = named('run count/CountTask');
    const [own] = named('count letters');
    expect(server!.kind).toBe(SpanKind.SERVER);
    expect(parentId(server!)).toBeUndefined();
    expect(parentId(execute!)).toBe(spanId(server!));
    // The attempt ran on the worker: its parent came with the job, so it is remote.
    expect(parentId(attempt!)).toBe(spanId(execute!));
    expect(attempt!.parentSpanContext?.isRemote).toBe(true);
    expect(parentId(own!)).toBe(spanId(attempt!));
    expect(attempt!.attributes).toMatchObject({
      'plugboard.task.id': record.id,
      'plugboard.plugin.id': 'count',
      'plugboard.task.attempt': 1,
      'plugboard.task.state': 'succeeded',
    });
    const traceIds = new Set([server, execute, attempt, own].map((s) => s!.spanContext().traceId));
    expect(traceIds.size).toBe(1);
  });

  it('the API process counts the tasks its BullMQ workers finished, by plugin and state', async () => {
    const reader = new TestReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    const { host } = await fleet(meterProvider);
    const runs = await Promise.all([
      host.execute('count', { words: ['a', 'bb', 'ccc'] }),
      host.execute('count', { words: ['dddd'] }),
    ]);
    for (const task of runs.flatMap((r) => r.tasks)) await host.tasks.wait(task.id);

    const { resourceMetrics } = await reader.collect();
    const metrics = resourceMetrics.scopeMetrics.find((s) => s.scope.name === '@plugboard/core')!.metrics;
    const finished = metrics.find((m) => m.descriptor.name === 'plugboard.tasks.finished')!;
    expect(finished.dataPoints.map((p) => [p.attributes, p.value])).toEqual([
      [{ 'plugboard.plugin.id': 'count', 'plugboard.task.state': 'succeeded' }, 4],
    ]);
    const duration = metrics.find((m) => m.descriptor.name === 'plugboard.task.duration')!;
    expect(duration.descriptor.unit).toBe('s');
    expect((duration.dataPoints[0]!.value as { count: number }).count).toBe(4);
    const queued = metrics.find((m) => m.descriptor.name === 'plugboard.tasks.queued')!;
    expect(queued.dataPoints[0]!.attributes).toEqual({ 'plugboard.runtime.name': 'bullmq' });
    await host.stop({ timeoutMs: 500 });
    await meterProvider.shutdown();
  });
});

describe("BullMQ's own telemetry option", () => {
  it('is passed through when it is a Telemetry, and refused otherwise', () => {
    const connection = { host: '127.0.0.1', port: 1 };
    const telemetry = { tracer: { startSpan: () => ({}) }, contextManager: {} } as never;
    expect(() => bullmqRuntime({ connection, telemetry })).not.toThrow();
    expect(() => createWorker({ connection, telemetry })).not.toThrow();
    for (const wrong of [true, {}, { tracer: null }]) {
      const expected = expect.objectContaining({
        code: 'PLUGBOARD_INVALID_OPTION',
        message: expect.stringContaining("Expected `telemetry` to be BullMQ's Telemetry"),
      });
      expect(() => bullmqRuntime({ connection, telemetry: wrong as never })).toThrow(expected);
      expect(() => createWorker({ connection, telemetry: wrong as never })).toThrow(expected);
    }
  });
});
