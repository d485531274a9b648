import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { Task, type TaskContext } from '@plugboard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostsStartedPerTest, single } from './helpers.js';

// A task stays in the trace of the request that executed it: every attempt, however late it runs and whichever
// task's end lets it start, is a child of its own execute span.

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

const started = hostsStartedPerTest();

class ThirdTime extends Task<Record<string, never>> {
  static override retry = { attempts: 3, backoff: { type: 'fixed' as const, delayMs: 20 } };
  run(ctx: TaskContext) {
    if (ctx.attempt < 3) throw new Error(`attempt ${ctx.attempt} failed`);
    return ctx.attempt;
  }
}

describe('traces of queued and retried tasks', () => {
  it('makes every attempt of a retried task a child of its execute span, in one trace', async () => {
    const host = await started([single('third', ThirdTime)], { isolation: 'none' });
    const caller = trace.getTracer('the-host-app');
    const { tasks } = await caller.startActiveSpan('POST /execute', async (span) => {
      try {
        return await host.execute('third', {});
      } finally {
        span.end();
      }
    });
    expect((await host.tasks.wait(tasks[0]!.id)).state).toBe('succeeded');
    const spans = exporter.getFinishedSpans();
    const execute = spans.find((s) => s.name === 'execute third');
    const attempts = spans.filter((s) => s.name === 'run third/ThirdTime');
    const parent = (span: ReadableSpan) => span.parentSpanContext?.spanId;
    expect(execute).toBeDefined();
    expect(attempts.map((a) => a.attributes['plugboard.task.attempt'])).toEqual([1, 2, 3]);
    for (const attempt of attempts) expect(parent(attempt)).toBe(execute!.spanContext().spanId);
    expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1);
  });

  it('keeps a task that waited for a slot in the trace of its own request, not of the task before it', async () => {
    class Short extends Task<Record<string, never>> {
      async run() {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return 'done';
      }
    }
    const host = await started([single('short', Short)], { isolation: 'none', concurrency: 1 });
    const caller = trace.getTracer('the-host-app');
    const executeIn = (name: string) =>
      caller.startActiveSpan(name, async (span) => {
        try {
          return (await host.execute('short', {})).tasks[0]!;
        } finally {
          span.end();
        }
      });
    const first = await executeIn('first request');
    const second = await executeIn('second request');
    await host.tasks.wait(first.id);
    await host.tasks.wait(second.id);
    const spans = exporter.getFinishedSpans();
    const traceOf = (name: string) => spans.find((s) => s.name === name)!.spanContext().traceId;
    const attempts = spans.filter((s) => s.name === 'run short/Short');
    expect(attempts.map((a) => a.attributes['plugboard.task.id'])).toEqual([first.id, second.id]);
    expect(attempts.map((a) => a.spanContext().traceId)).toEqual([
      traceOf('first request'),
      traceOf('second request'),
    ]);
  });
});
