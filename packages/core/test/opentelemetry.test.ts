import { fileURLToPath } from 'node:url';
import { context, type Span, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import {
  ActionPlugin,
  BackgroundTaskPlugin,
  createHost,
  type Host,
  type HostOptions,
  type Static,
  Task,
  type TaskContext,
  TaskError,
  Type,
} from '@plugboard/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

/** Reads the metrics on demand, as a Prometheus scrape would. */
class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const Args = Type.Object({
  mode: Type.Union([Type.Literal('ok'), Type.Literal('flaky'), Type.Literal('slow'), Type.Literal('hang')]),
});

class TracedTask extends Task<Static<typeof Args>> {
  static override retry = { attempts: 3, backoff: { type: 'fixed' as const, delayMs: 1 } };
  async run(ctx: TaskContext) {
    // A span the task starts itself is a child of its attempt's span.
    const tracer = trace.getTracer('plugin-code');
    await tracer.startActiveSpan('inner work', async (span: Span) => {
      span.end();
    });
    if (this.input.mode === 'flaky' && ctx.attempt < 3) throw new TaskError('not yet', { code: 'FLAKY' });
    if (this.input.mode === 'hang') {
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
      throw ctx.signal.reason;
    }
    return { attempt: ctx.attempt };
  }
}

class Traced extends ActionPlugin({ id: 'traced', name: 'Traced', args: Args, tasks: [TracedTask] }) {
  createTasks(args: Static<typeof Args>) {
    return args.mode === 'slow' ? [new TracedTask(args), new TracedTask(args)] : new TracedTask(args);
  }
}

const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
  trace.setGlobalTracerProvider(tracerProvider);
});
afterAll(async () => {
  trace.disable();
  context.disable();
  await tracerProvider.shutdown();
});

const hosts: Host[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop()));
  exporter.reset();
});

async function startHost(options: HostOptions = {}) {
  const host = createHost({
    env: false,
    argv: [],
    isolation: 'none',
    plugins: { classes: [Traced] },
    ...options,
  });
  hosts.push(host);
  await host.start();
  return host;
}

const spanId = (span: ReadableSpan) => span.spanContext().spanId;
const parentId = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const named = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name);

describe('OpenTelemetry traces', () => {
  it('an execute inside a caller’s span yields one trace: caller, execute, each attempt, the task’s own span', async () => {
    const host = await startHost();
    const tracer = trace.getTracer('the-host-app');
    const { tasks } = await tracer.startActiveSpan('POST /plugins/traced/execute', async (span) => {
      try {
        return await host.execute('traced', { mode: 'flaky' }, { user: { id: 'ada' } });
      } finally {
        span.end();
      }
    });
    const record = await host.tasks.wait(tasks[0]!.id);
    expect(record).toMatchObject({ state: 'succeeded', attempt: 3 });

    const [caller] = named('POST /plugins/traced/execute');
    const [execute] = named('execute traced');
    const attempts = named('run traced/TracedTask');
    const inner = named('inner work');
    expect(execute!.attributes).toMatchObject({
      'plugboard.plugin.id': 'traced',
      'user.id': 'ada',
      'plugboard.execute.task_count': 1,
    });
    expect(parentId(execute!)).toBe(spanId(caller!));
    expect(attempts.map((a) => a.attributes['plugboard.task.attempt'])).toEqual([1, 2, 3]);
    for (const attempt of attempts) expect(parentId(attempt)).toBe(spanId(execute!));
    expect(inner.map(parentId)).toEqual(attempts.map(spanId));
    const traceIds = new Set(exporter.getFinishedSpans().map((s) => s.spanContext().traceId));
    expect(traceIds.size).toBe(1);

    expect(attempts[0]!.attributes).toMatchObject({
      'plugboard.task.id': record.id,
      'plugboard.task.type': 'traced/TracedTask',
      'plugboard.task.max_attempts': 3,
      'plugboard.task.state': 'failed',
      'error.type': 'FLAKY',
      'user.id': 'ada',
    });
    expect(attempts[0]!.status).toMatchObject({ code: 2, message: 'not yet' });
    expect(attempts[0]!.events.map((e) => [e.name, e.attributes])).toEqual([
      ['plugboard.task.retry', { 'plugboard.task.retry.delay_ms': 1 }],
    ]);
    expect(attempts[2]!.attributes['plugboard.task.state']).toBe('succeeded');
    expect(attempts[2]!.status.code).toBe(0);
    expect(attempts[2]!.events).toEqual([]);
  });

  it('a timeout and a cancel are events of the attempt’s span', async () => {
    const host = await startHost();
    const timed = await host.execute('traced', { mode: 'hang' }, { timeoutMs: 20 });
    expect(await host.tasks.wait(timed.tasks[0]!.id)).toMatchObject({ state: 'timed-out' });
    const started = new Promise<void>((resolve) => host.events.once('task:started', () => resolve()));
    const cancelled = await host.execute('traced', { mode: 'hang' });
    await started;
    await host.tasks.cancel(cancelled.tasks[0]!.id);
    await host.tasks.wait(cancelled.tasks[0]!.id);

    const [timedOut, wasCancelled] = named('run traced/TracedTask');
    expect(timedOut!.events.map((e) => e.name)).toEqual(['plugboard.task.timeout']);
    expect(timedOut!.attributes).toMatchObject({
      'plugboard.task.state': 'timed-out',
      'error.type': 'PLUGBOARD_TASK_TIMED_OUT',
    });
    expect(timedOut!.status.code).toBe(2);
    expect(wasCancelled!.events.map((e) => e.name)).toEqual(['plugboard.task.cancel']);
    expect(wasCancelled!.attributes['plugboard.task.state']).toBe('cancelled');
    // A cancel is what someone asked for, not a fault.
    expect(wasCancelled!.status.code).toBe(0);
  });

  it('a task in a worker thread runs as a child of its attempt’s span', { timeout: 60_000 }, async () => {
    const host = await startHost({
      plugins: { dirs: [fileURLToPath(new URL('./fixtures/traced', import.meta.url))] },
      isolation: 'thread',
    });
    const { tasks } = await host.execute('trace-reader', {});
    const record = await host.tasks.wait(tasks[0]!.id);
    const [attempt] = named('run trace-reader/ReadTrace');
    expect(record.result).toEqual({
      traceId: attempt!.spanContext().traceId,
      spanId: spanId(attempt!),
      remote: true,
    });
    expect(parentId(attempt!)).toBe(spanId(named('execute trace-reader')[0]!));
  });

  it('a scheduled run of a background plugin is the root of its trace, with its tasks’ attempts below it', async () => {
    class TickTask extends Task<Record<string, never>> {
      async run() {
        return 'tick';
      }
    }
    class Tick extends BackgroundTaskPlugin({
      id: 'tick',
      name: 'Tick',
      delaySeconds: 0,
      tasks: [TickTask],
    }) {
      createTasks() {
        return new TickTask({});
      }
    }
    const host = createHost({ env: false, argv: [], isolation: 'none', plugins: { classes: [Tick] } });
    hosts.push(host);
    const finished = new Promise<void>((resolve) => host.events.once('task:finished', () => resolve()));
    await host.start();
    await finished;
    const [schedule] = named('schedule tick');
    const [attempt] = named('run tick/TickTask');
    expect(parentId(schedule!)).toBeUndefined();
    expect(schedule!.attributes).toMatchObject({
      'plugboard.plugin.id': 'tick',
      'plugboard.schedule.id': 'tick',
      'plugboard.execute.task_count': 1,
    });
    expect(parentId(attempt!)).toBe(spanId(schedule!));
    expect(attempt!.attributes['user.id']).toBe('plugboard:system');
  });

  it('a refused execute ends its span with the error’s code', async () => {
    const host = await startHost();
    await expect(host.execute('traced', { mode: 'nope' })).rejects.toMatchObject({
      code: 'PLUGBOARD_INVALID_ARGUMENTS',
    });
    const [execute] = named('execute traced');
    expect(execute!.attributes['error.type']).toBe('PLUGBOARD_INVALID_ARGUMENTS');
    expect(execute!.status.code).toBe(2);
    expect(execute!.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('openTelemetry: false records no span; an explicit tracerProvider is used instead of the global one', async () => {
    const off = await startHost({ openTelemetry: false });
    await off.tasks.wait((await off.execute('traced', { mode: 'ok' })).tasks[0]!.id);
    expect(exporter.getFinishedSpans().filter((s) => s.name.startsWith('execute '))).toEqual([]);

    const own = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(own)] });
    const host = await startHost({ openTelemetry: { tracerProvider: provider } });
    await host.tasks.wait((await host.execute('traced', { mode: 'ok' })).tasks[0]!.id);
    expect(
      own
        .getFinishedSpans()
        .map((s) => s.name)
        .sort(),
    ).toEqual(['execute traced', 'run traced/TracedTask']);
    await provider.shutdown();
  });

  it('refuses openTelemetry options that are not providers', () => {
    expect(() => createHost({ openTelemetry: { tracerProvider: {} } as never })).toThrow(
      expect.objectContaining({
        code: 'PLUGBOARD_INVALID_OPTION',
        message:
          'Expected `openTelemetry.tracerProvider` to be a TracerProvider (with getTracer), got `{}` (object).',
      }),
    );
    expect(() => createHost({ openTelemetry: true as never })).toThrow(
      expect.objectContaining({ code: 'PLUGBOARD_INVALID_OPTION' }),
    );
  });
});

describe('OpenTelemetry metrics', () => {
  it('counts finished tasks by plugin and state, records their durations, and reads queue depth and running tasks', async () => {
    const reader = new TestReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    const host = await startHost({ concurrency: 1, openTelemetry: { meterProvider } });
    await Promise.all([
      host.execute('traced', { mode: 'ok' }),
      host.execute('traced', { mode: 'ok' }),
      host.execute('traced', { mode: 'slow' }),
    ]);
    const hangs = new Promise<void>((resolve) => {
      host.events.on('task:started', (r) => (r.input as { mode: string }).mode === 'hang' && resolve());
    });
    const hung = await host.execute('traced', { mode: 'hang' }, { timeoutMs: 5000 });
    await hangs;
    const queued = await host.execute('traced', { mode: 'ok' });

    const sample = await metricsOf(reader);
    expect(sample['plugboard.tasks.running']).toEqual([
      { attributes: { 'plugboard.runtime.name': 'in-process' }, value: 1 },
    ]);
    expect(sample['plugboard.tasks.queued']).toEqual([
      { attributes: { 'plugboard.runtime.name': 'in-process' }, value: 1 },
    ]);

    await host.tasks.cancel(hung.tasks[0]!.id);
    await host.tasks.wait(queued.tasks[0]!.id);
    const after = await metricsOf(reader);
    expect(after['plugboard.tasks.finished']).toEqual(
      expect.arrayContaining([
        { attributes: { 'plugboard.plugin.id': 'traced', 'plugboard.task.state': 'succeeded' }, value: 5 },
        {
          attributes: {
            'plugboard.plugin.id': 'traced',
            'plugboard.task.state': 'cancelled',
            'error.type': 'PLUGBOARD_TASK_CANCELLED',
          },
          value: 1,
        },
      ]),
    );
    expect(after['plugboard.tasks.finished']).toHaveLength(2);
    const durations = after['plugboard.task.duration']!.find(
      (p) => p.attributes['plugboard.task.state'] === 'succeeded',
    );
    expect((durations!.value as { count: number }).count).toBe(5);
    expect(after['plugboard.tasks.running']![0]!.value).toBe(0);
    expect(after['plugboard.tasks.queued']![0]!.value).toBe(0);

    await host.stop();
    // A stopped host's runtime is no longer read; collecting still works.
    await expect(metricsOf(reader)).resolves.toBeDefined();
    await meterProvider.shutdown();
  });
});

type Point = { attributes: Record<string, unknown>; value: unknown };

async function metricsOf(reader: MetricReader): Promise<Record<string, Point[]>> {
  const { resourceMetrics } = await reader.collect();
  const out: Record<string, Point[]> = {};
  for (const scope of resourceMetrics.scopeMetrics) {
    if (scope.scope.name !== '@plugboard/core') continue;
    for (const metric of scope.metrics) {
      out[metric.descriptor.name] = metric.dataPoints.map((p) => ({
        attributes: { ...p.attributes },
        value: p.value,
      }));
    }
  }
  return out;
}
