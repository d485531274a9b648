import {
  type Attributes,
  type Context,
  context,
  isSpanContextValid,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { isPlugboardError } from '../errors.js';
import { retryDelay } from '../runtime/task-life.js';
import type { PlugboardUser, RetryPolicy, TaskErrorInfo, TaskRecord, TaskState } from '../task.js';
import { PLUGBOARD_VERSION } from '../version.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_PLUGIN_ID,
  ATTR_RETRY_DELAY_MS,
  ATTR_SCHEDULE_ID,
  ATTR_TASK_ATTEMPT,
  ATTR_TASK_COUNT,
  ATTR_TASK_ID,
  ATTR_TASK_MAX_ATTEMPTS,
  ATTR_TASK_STATE,
  ATTR_TASK_TYPE,
  ATTR_USER_ID,
} from './attributes.js';

/** The instrumentation scope Plugboard's spans and metrics are recorded under. */
export const INSTRUMENTATION_SCOPE = '@plugboard/core';

/** What happened to a running attempt, recorded as an event of its span. */
export type AttemptEvent = 'cancelled' | 'timed-out' | 'interrupted';

const EVENT_NAMES: Readonly<Record<AttemptEvent, string>> = {
  cancelled: 'plugboard.task.cancel',
  'timed-out': 'plugboard.task.timeout',
  interrupted: 'plugboard.task.interrupt',
};

/** The span of one attempt of a task, from `TaskExecution`. */
export interface AttemptSpan {
  /** The context the task's `run` executes in: the attempt span is its active span. */
  readonly context: Context;
  /** Records an event (`plugboard.task.cancel`, `.timeout`, `.interrupt`) on the span. */
  event(event: AttemptEvent, message: string): void;
  /**
   * Ends the span with the attempt's final record. A failure that may be retried under `policy` and has attempts
   * left gets a `plugboard.task.retry` event with the delay before the next attempt.
   */
  end(record: TaskRecord, retryable: boolean, policy: RetryPolicy | undefined): void;
}

/** Traces the attempts of tasks; part of a runtime's environment (`RuntimeEnvironment.telemetry`). */
export interface AttemptTelemetry {
  /**
   * Starts the span of an attempt as a child of the active context; `undefined` when there is nothing to record or
   * carry (no SDK, and no trace to continue).
   */
  startAttempt(record: TaskRecord): AttemptSpan | undefined;
}

/** The states an attempt span reports as an error. */
const ERROR_STATES: ReadonlySet<TaskState> = new Set(['failed', 'timed-out', 'interrupted']);

function taskAttributes(record: TaskRecord): Attributes {
  return {
    [ATTR_TASK_ID]: record.id,
    [ATTR_PLUGIN_ID]: record.pluginId,
    [ATTR_TASK_TYPE]: record.taskType,
    [ATTR_TASK_ATTEMPT]: record.attempt,
    [ATTR_TASK_MAX_ATTEMPTS]: record.maxAttempts,
    [ATTR_USER_ID]: record.user.id,
  };
}

function setError(span: Span, error: TaskErrorInfo): void {
  span.setAttribute(ATTR_ERROR_TYPE, error.code);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
}

class RecordedAttempt implements AttemptSpan {
  readonly context: Context;
  readonly #span: Span;

  constructor(span: Span, parent: Context) {
    this.#span = span;
    this.context = trace.setSpan(parent, span);
  }

  event(event: AttemptEvent, message: string): void {
    this.#span.addEvent(EVENT_NAMES[event], { message });
  }

  end(record: TaskRecord, retryable: boolean, policy: RetryPolicy | undefined): void {
    const span = this.#span;
    const retryInMs =
      record.state === 'failed' && retryable
        ? retryDelay(policy, record.attempt, record.maxAttempts)
        : undefined;
    span.setAttribute(ATTR_TASK_STATE, record.state);
    if (retryInMs !== undefined) span.addEvent('plugboard.task.retry', { [ATTR_RETRY_DELAY_MS]: retryInMs });
    if (record.error !== null && ERROR_STATES.has(record.state)) setError(span, record.error);
    else if (record.error !== null) span.setAttribute(ATTR_ERROR_TYPE, record.error.code);
    span.end();
  }
}

/** An attempt span that records nothing, for a tracer that does not sample it (such as the API's no-op one). */
class UnrecordedAttempt implements AttemptSpan {
  readonly context: Context;

  constructor(span: Span, parent: Context) {
    this.context = trace.setSpan(parent, span);
  }

  event(): void {}

  end(): void {}
}

/**
 * The host's spans: one per `execute` (`execute <plugin id>`) and one per attempt of a task (`run <task type>`),
 * through `@opentelemetry/api` only, so they cost next to nothing until the host installs an SDK.
 */
export class TaskTracing implements AttemptTelemetry {
  readonly #tracer: Tracer;

  constructor(provider: TracerProvider | undefined) {
    // The API's global provider is a proxy: an SDK registered after the host was created is still used.
    this.#tracer = (provider ?? trace).getTracer(INSTRUMENTATION_SCOPE, PLUGBOARD_VERSION);
  }

  /** Runs one execution of a plugin in its span; the tasks it queues carry the span's context. */
  execute<T extends { readonly tasks: readonly unknown[] }>(
    pluginId: string,
    user: PlugboardUser | undefined,
    work: () => Promise<T>,
  ): Promise<T> {
    const attributes = { [ATTR_PLUGIN_ID]: pluginId, ...(user ? { [ATTR_USER_ID]: user.id } : {}) };
    return this.#traced(`execute ${pluginId}`, attributes, work, (result) => result.tasks.length);
  }

  /** Runs one scheduled run of a background plugin in its span (`schedule <plugin id>`), the root of its trace. */
  schedule<T extends readonly unknown[]>(
    pluginId: string,
    scheduleId: string,
    work: () => Promise<T>,
  ): Promise<T> {
    const attributes = { [ATTR_PLUGIN_ID]: pluginId, [ATTR_SCHEDULE_ID]: scheduleId };
    return this.#traced(`schedule ${pluginId}`, attributes, work, (tasks) => tasks.length);
  }

  #traced<T>(
    name: string,
    attributes: Attributes,
    work: () => Promise<T>,
    count: (result: T) => number,
  ): Promise<T> {
    const span = this.#tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes });
    // Without an SDK (and no trace to continue) there is nothing to record or carry: no context, no extra promise.
    if (!span.isRecording() && !isSpanContextValid(span.spanContext())) return work();
    return this.#inSpan(span, work, count);
  }

  async #inSpan<T>(span: Span, work: () => Promise<T>, count: (result: T) => number): Promise<T> {
    try {
      const result = await context.with(trace.setSpan(context.active(), span), work);
      span.setAttribute(ATTR_TASK_COUNT, count(result));
      return result;
    } catch (error) {
      if (span.isRecording()) {
        span.recordException(error instanceof Error ? error : String(error));
        setError(span, {
          code: isPlugboardError(error) ? error.code : error instanceof Error ? error.name : '_OTHER',
          message: error instanceof Error ? error.message : String(error),
        });
      }
      throw error;
    } finally {
      span.end();
    }
  }

  startAttempt(record: TaskRecord): AttemptSpan | undefined {
    const parent = context.active();
    const span = this.#tracer.startSpan(
      `run ${record.taskType}`,
      { kind: SpanKind.INTERNAL, attributes: taskAttributes(record) },
      parent,
    );
    if (span.isRecording()) return new RecordedAttempt(span, parent);
    // Sampled out: the span records nothing, but its context still reaches the task's own spans.
    return isSpanContextValid(span.spanContext()) ? new UnrecordedAttempt(span, parent) : undefined;
  }
}
