import {
  type Context,
  context,
  createTraceState,
  isSpanContextValid,
  type SpanContext,
  trace,
} from '@opentelemetry/api';

/**
 * The trace context a task carries to wherever it runs (a worker thread or process, a BullMQ worker), in the W3C
 * Trace Context form (`traceparent`, `tracestate`). Written and read without a registered propagator, so it
 * crosses even when the host installed only a tracer.
 */
export interface TraceCarrier {
  /** `00-<trace id>-<parent span id>-<flags>`. */
  readonly traceparent: string;
  /** The vendors' trace state, when the span context has one. */
  readonly tracestate?: string;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The active context, to run a task's attempt in later (it is `ROOT_CONTEXT` with no SDK installed). */
export function activeTraceContext(): Context {
  return context.active();
}

/** Runs `work` with `ctx` as the active context (a plain call with no context manager installed). */
export function runInTraceContext<T>(ctx: Context | undefined, work: () => T): T {
  return ctx === undefined ? work() : context.with(ctx, work);
}

/** The carrier of the active span's context, or `undefined` when no span is being recorded or sampled out. */
export function captureTraceCarrier(ctx: Context = context.active()): TraceCarrier | undefined {
  const span = trace.getSpanContext(ctx);
  if (span === undefined || !isSpanContextValid(span)) return undefined;
  const flags = (span.traceFlags & 0xff).toString(16).padStart(2, '0');
  const traceparent = `00-${span.traceId}-${span.spanId}-${flags}`;
  const tracestate = span.traceState?.serialize();
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

/**
 * The context whose parent span is the one `carrier` names, over the active context; the active context itself
 * when there is no carrier or it cannot be read (a carrier crosses process boundaries: it is never trusted).
 */
export function traceContextOf(carrier: unknown): Context {
  const base = context.active();
  if (carrier === null || typeof carrier !== 'object') return base;
  const { traceparent, tracestate } = carrier as { traceparent?: unknown; tracestate?: unknown };
  if (typeof traceparent !== 'string') return base;
  const match = TRACEPARENT.exec(traceparent);
  if (!match) return base;
  const parent: SpanContext = {
    traceId: match[1]!,
    spanId: match[2]!,
    traceFlags: Number.parseInt(match[3]!, 16),
    isRemote: true,
  };
  if (typeof tracestate === 'string' && tracestate.length > 0 && tracestate.length <= 512) {
    parent.traceState = createTraceState(tracestate);
  }
  return isSpanContextValid(parent) ? trace.setSpanContext(base, parent) : base;
}

/** Runs `work` as a child of the span `carrier` names (a W3C `traceparent` carrier; none runs it as it is). */
export function runWithTraceCarrier<T>(carrier: unknown, work: () => T): T {
  if (carrier === undefined || carrier === null) return work();
  return context.with(traceContextOf(carrier), work);
}
