import { describeThrown, PlugboardError, taskFinishedReason } from '../errors.js';
import type { AttemptSpan } from '../observability/task-tracing.js';
import { runInTraceContext } from '../observability/trace-context.js';
import { type SecretRedactor, secretRedactor } from '../secrets.js';
import {
  LOG_LEVEL_RANK,
  type LogLevel,
  TaskError,
  type TaskErrorInfo,
  type TaskLogEntry,
  type TaskRecord,
  type TaskState,
} from '../task.js';
import { MAX_TIMER_MS } from '../timers.js';
import { AttemptContext, provideAttemptAccess } from './attempt-context.js';
import { spawnFunction } from './child-tasks.js';
import { runInExitScope } from './process-exit-guard.js';
import type { RuntimeEnvironment } from './runtime.js';

/** How one attempt ended. */
export interface AttemptOutcome {
  /** The final state this attempt ended in; a retry may still follow a failure. */
  readonly state: Exclude<TaskState, 'queued' | 'running'>;
  /** What `run` returned, when the attempt succeeded. */
  readonly result?: unknown;
  /** Why the attempt did not succeed; `null` when it did. */
  readonly error: TaskErrorInfo | null;
  /** False when the error says retrying is pointless. */
  readonly retryable: boolean;
}

const LOG_FLUSH_BATCH = 200;
/** Status and progress texts are one line: longer ones are cut. */
const MAX_STATUS_LENGTH = 500;
/** Log lines one attempt writes unless the environment says otherwise. */
export const DEFAULT_MAX_LOG_LINES_PER_ATTEMPT = 10_000;

/** Reads what a thrown value says about itself, whatever its getters do. */
function thrownFacts(thrown: unknown): { code: string; stack?: string; retryable: boolean } {
  try {
    const own = (thrown as { code?: unknown } | null)?.code;
    const code =
      thrown instanceof PlugboardError || thrown instanceof TaskError
        ? thrown.code
        : typeof own === 'string' && (own.startsWith('PLUGBOARD_') || (thrown as Error).name === 'TaskError')
          ? own
          : 'PLUGBOARD_TASK_FAILED';
    const stack = thrown instanceof Error && typeof thrown.stack === 'string' ? thrown.stack : undefined;
    const retryable = (thrown as { retryable?: unknown } | null)?.retryable !== false;
    return stack === undefined ? { code, retryable } : { code, stack, retryable };
  } catch {
    return { code: 'PLUGBOARD_TASK_FAILED', retryable: true };
  }
}

/** A task's own error code is kept when it looks like one; anything else is recorded as a plain failure. */
const ERROR_CODE_PATTERN = /^[A-Za-z0-9_.:-]{1,100}$/;

function errorInfo(thrown: unknown): TaskErrorInfo & { retryable: boolean } {
  const { code, stack, retryable } = thrownFacts(thrown);
  const info = {
    code: typeof code === 'string' && ERROR_CODE_PATTERN.test(code) ? code : 'PLUGBOARD_TASK_FAILED',
    message: describeThrown(thrown),
    retryable,
  };
  return stack === undefined ? info : { ...info, stack };
}

function toJson(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  // What JSON keeps as is needs no round trip (a non-finite number becomes null, as JSON writes it).
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value + 0 : null; // -0 is written 0
  return JSON.parse(JSON.stringify(value));
}

/**
 * One attempt of one task: owns its AbortSignal (cancel, timeout and shutdown combined), its levelled log,
 * coalesced progress and the record's transitions. The runtime decides what happens after the attempt.
 */
export class TaskExecution {
  readonly #env: RuntimeEnvironment;
  /** Created when the task first reads `ctx.signal` or when the attempt is aborted: most short tasks never need one. */
  #controller: AbortController | undefined;
  #record: TaskRecord;
  #stop: ((outcome: AttemptOutcome) => void) | undefined;
  #finished = false;
  /** Lines not yet written to the store; created with the first line. */
  #logBuffer: TaskLogEntry[] | undefined;
  #logFlushScheduled = false;
  #logSeq: number;
  #progressTimer: ReturnType<typeof setTimeout> | undefined;
  #progressDirty = false;
  #lastProgressEmit = 0;
  #failure: { reason: string; retryable: boolean } | undefined;
  /** Set by `requestCancel`: however the task's code ends from then on, the attempt is recorded `cancelled`. */
  #cancelRequest: { code: 'PLUGBOARD_TASK_CANCELLED'; message: string } | undefined;
  readonly #minLevel: number;
  readonly #maxLines: number;
  #linesWritten = 0;
  #linesDropped = 0;
  #redactor: SecretRedactor = secretRedactor(undefined);
  /** The attempt's span, when the host traces. */
  #span: AttemptSpan | undefined;

  constructor(env: RuntimeEnvironment, record: TaskRecord) {
    this.#env = env;
    this.#record = record;
    this.#logSeq = record.logCount;
    this.#minLevel = LOG_LEVEL_RANK[env.logLevel];
    this.#maxLines = env.maxLogLinesPerAttempt ?? DEFAULT_MAX_LOG_LINES_PER_ATTEMPT;
  }

  /** The record as this attempt last wrote it. */
  get record(): TaskRecord {
    return this.#record;
  }

  /** Aborts the task's signal and settles the attempt at once with `state`, whether or not the task listens. */
  abort(state: 'cancelled' | 'timed-out' | 'interrupted', message: string): void {
    if (this.#finished) return;
    const code =
      state === 'cancelled'
        ? 'PLUGBOARD_TASK_CANCELLED'
        : state === 'timed-out'
          ? 'PLUGBOARD_TASK_TIMED_OUT'
          : 'PLUGBOARD_TASK_INTERRUPTED';
    this.#span?.event(state, message);
    this.#signalController().abort(new PlugboardError(code, message));
    this.#stop?.({ state, error: { code, message }, retryable: false });
  }

  /**
   * Aborts the task's signal as a cancel but lets the attempt run until the task's code stops, then records it
   * `cancelled`. A task that ignores its signal keeps running until `abort` settles it (a shutdown, a timeout).
   */
  requestCancel(message: string): void {
    if (this.#finished || this.#cancelRequest) return;
    this.#cancelRequest = { code: 'PLUGBOARD_TASK_CANCELLED', message };
    this.#span?.event('cancelled', message);
    this.#signalController().abort(new PlugboardError(this.#cancelRequest.code, message));
  }

  /** A guarded `process.exit` call from the task: the attempt fails at once, whatever the task does next. */
  #refuseExit(code: unknown): PlugboardError {
    const shown =
      typeof code === 'number' || typeof code === 'string' ? String(code).slice(0, 20) : 'undefined';
    const error = new PlugboardError(
      'PLUGBOARD_PROCESS_EXIT_REFUSED',
      `The task called process.exit(${shown}); the host refused to end its process. Return or throw from run() instead.`,
    );
    if (!this.#finished) {
      this.#signalController().abort(error);
      this.#stop?.({
        state: 'failed',
        error: { code: error.code, message: error.message },
        retryable: false,
      });
    }
    return error;
  }

  #signalController(): AbortController {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      // Work the task left running that reads its signal only after the attempt ended learns at once that it is over.
      if (this.#finished) this.#controller.abort(taskFinishedReason());
    }
    return this.#controller;
  }

  /** Runs the attempt and records its outcome; never rejects. */
  async run(): Promise<AttemptOutcome> {
    const env = this.#env;
    const startedAt = env.now();
    const began = performance.now();
    this.#patch({ state: 'running', startedAt, finishedAt: null, progress: 0, progressMessage: null });
    this.#emit('task:started', this.#record);
    this.#span = env.telemetry?.startAttempt(this.#record);

    let instantiated: ReturnType<RuntimeEnvironment['instantiate']>;
    try {
      instantiated = env.instantiate(this.#record);
    } catch (error) {
      const { retryable: _, ...info } = errorInfo(error);
      return this.#finish({ state: 'failed', error: info, retryable: false });
    }
    this.#redactor = secretRedactor(instantiated.secrets);

    let timer: ReturnType<typeof setTimeout> | undefined;
    if (this.#record.timeoutMs !== null) {
      const ms = this.#record.timeoutMs;
      timer = setTimeout(
        () => this.abort('timed-out', `The task ran longer than its timeout of ${ms} ms.`),
        Math.min(ms, MAX_TIMER_MS),
      );
    }

    const ctx = this.#context(instantiated.properties);
    const task = instantiated.task;
    // Settles with the task's own outcome, or earlier when cancel, timeout or shutdown call `abort`.
    const outcome = await new Promise<AttemptOutcome>((resolve) => {
      this.#stop = resolve;
      let work: unknown;
      try {
        // The task runs with its attempt's span active, so spans it starts are the attempt's children.
        work = runInTraceContext(this.#span?.context, () =>
          env.guardProcessExit
            ? runInExitScope({ refuse: (code) => this.#refuseExit(code) }, () => task.run(ctx))
            : task.run(ctx),
        );
      } catch (thrown) {
        resolve(this.#thrownOutcome(thrown));
        return;
      }
      Promise.resolve(work).then(
        (result) => resolve(this.#returnedOutcome(result)),
        (thrown) => resolve(this.#thrownOutcome(thrown)),
      );
    });
    if (timer) clearTimeout(timer);
    return this.#finish(this.#pastTimeout(outcome, began));
  }

  /**
   * A task whose synchronous work kept the timer from firing still ran past its timeout: it is recorded
   * `timed-out`, never `succeeded` or `failed` as if it had kept to it.
   */
  #pastTimeout(outcome: AttemptOutcome, began: number): AttemptOutcome {
    const ms = this.#record.timeoutMs;
    if (ms === null || (outcome.state !== 'succeeded' && outcome.state !== 'failed')) return outcome;
    if (performance.now() - began <= ms) return outcome;
    const code = 'PLUGBOARD_TASK_TIMED_OUT';
    return {
      state: 'timed-out',
      error: { code, message: `The task ran longer than its timeout of ${ms} ms.` },
      retryable: false,
    };
  }

  /** The outcome of an attempt whose `run` returned (or resolved to) `result`. */
  #returnedOutcome(result: unknown): AttemptOutcome {
    if (this.#cancelRequest) return { state: 'cancelled', error: this.#cancelRequest, retryable: false };
    if (this.#failure) {
      return {
        state: 'failed',
        error: { code: 'PLUGBOARD_TASK_FAILED', message: this.#failure.reason },
        retryable: this.#failure.retryable,
      };
    }
    try {
      return { state: 'succeeded', result: toJson(result), error: null, retryable: false };
    } catch (error) {
      return {
        state: 'failed',
        error: {
          code: 'PLUGBOARD_TASK_FAILED',
          message: `The task's result is not JSON-serialisable: ${describeThrown(error)}`,
        },
        retryable: false,
      };
    }
  }

  /** The outcome of an attempt whose `run` threw (or rejected with) `thrown`. */
  #thrownOutcome(thrown: unknown): AttemptOutcome {
    if (this.#cancelRequest) return { state: 'cancelled', error: this.#cancelRequest, retryable: false };
    const { retryable, ...info } = errorInfo(thrown);
    return { state: 'failed', error: info, retryable };
  }

  #context(properties: unknown): AttemptContext {
    return new AttemptContext(this, this.#record, properties as Record<string, unknown>);
  }

  static {
    // The context reaches the attempt through these: one shared set of functions rather than closures per task.
    provideAttemptAccess({
      signal: (execution) => execution.#signalController().signal,
      log: (execution, level, message) => execution.#log(level, message),
      progress: (execution, percent, message) => execution.#progress(percent, message),
      status: (execution, text) => {
        if (execution.#finished) return;
        execution.#record = { ...execution.#record, statusText: execution.#shortText(text) };
        execution.#progressChanged();
      },
      spawn: (execution) =>
        spawnFunction(
          execution.#env,
          () => execution.#record,
          () => execution.#finished,
        ),
      fail: (execution, reason, options) => {
        execution.#failure = {
          reason: typeof reason === 'string' ? reason : describeThrown(reason),
          retryable: options?.retryable !== false,
        };
      },
    });
  }

  /** One line of text as it may be stored: secrets replaced, then cut to `max` characters. */
  #safeText(text: string, max: number): string {
    const safe = this.#redactor.text(text);
    return safe.length > max ? `${safe.slice(0, max)}… [${safe.length - max} characters cut]` : safe;
  }

  #shortText(text: unknown): string {
    const safe = this.#redactor.text(typeof text === 'string' ? text : describeThrown(text));
    return safe.length > MAX_STATUS_LENGTH ? safe.slice(0, MAX_STATUS_LENGTH) : safe;
  }

  #log(level: LogLevel, message: unknown): void {
    if (this.#finished) return;
    if (level !== 'always' && LOG_LEVEL_RANK[level] < this.#minLevel) return;
    // Past the limit a line costs a counter: a task logging in a tight loop keeps memory, store and listeners flat.
    if (this.#linesWritten >= this.#maxLines) {
      this.#linesDropped++;
      return;
    }
    this.#linesWritten++;
    const text = this.#safeText(
      typeof message === 'string' ? message : describeThrown(message),
      this.#env.maxLogLineLength,
    );
    this.#append({ seq: ++this.#logSeq, time: this.#env.now(), level, message: text });
  }

  #append(entry: TaskLogEntry): void {
    this.#logBuffer ??= [];
    this.#logBuffer.push(entry);
    this.#emit('task:log', {
      id: this.#record.id,
      pluginId: this.#record.pluginId,
      userId: this.#record.user.id,
      entry,
    });
    if (this.#logBuffer.length >= LOG_FLUSH_BATCH) this.#flushLogs();
    else if (!this.#logFlushScheduled) {
      this.#logFlushScheduled = true;
      setImmediate(() => this.#flushLogs());
    }
  }

  #flushLogs(): void {
    this.#logFlushScheduled = false;
    const batch = this.#logBuffer;
    if (batch === undefined || batch.length === 0) return;
    this.#logBuffer = undefined;
    this.#record = { ...this.#record, logCount: this.#logSeq };
    const { store } = this.#env;
    store
      .appendLogs(this.#record.id, batch)
      .then(() => store.updateTask(this.#record.id, { logCount: batch.at(-1)!.seq }))
      .catch((error) => this.#env.reportError(error));
  }

  #progress(percent: number, message?: string): void {
    if (this.#finished || typeof percent !== 'number' || Number.isNaN(percent)) return;
    const clamped = Math.min(100, Math.max(0, percent));
    this.#record = {
      ...this.#record,
      progress: clamped,
      progressMessage: message === undefined ? this.#record.progressMessage : this.#shortText(message),
    };
    this.#progressChanged();
  }

  /** Emits at most once per interval: the first change at once, later ones coalesced into a trailing emit. */
  #progressChanged(): void {
    this.#progressDirty = true;
    if (this.#progressTimer) return;
    const wait = this.#lastProgressEmit + this.#env.progressIntervalMs - this.#env.now();
    if (wait <= 0) {
      this.#flushProgress();
      return;
    }
    this.#progressTimer = setTimeout(() => {
      this.#progressTimer = undefined;
      this.#flushProgress();
    }, wait);
  }

  #flushProgress(): void {
    if (!this.#progressDirty) return;
    this.#progressDirty = false;
    this.#lastProgressEmit = this.#env.now();
    const r = this.#record;
    this.#env.store
      .updateTask(r.id, {
        progress: r.progress,
        progressMessage: r.progressMessage,
        statusText: r.statusText,
      })
      .catch((error) => this.#env.reportError(error));
    this.#emit('task:progress', {
      id: r.id,
      pluginId: r.pluginId,
      userId: r.user.id,
      progress: r.progress,
      message: r.progressMessage,
      statusText: r.statusText,
    });
  }

  /** The outcome as it may be stored and sent: secrets replaced in the result and error, the error cut. */
  #safeOutcome(outcome: AttemptOutcome): AttemptOutcome {
    // A success of a plugin without secrets has nothing to replace or cut.
    if (outcome.error === null && outcome.state === 'succeeded' && !this.#redactor.active) return outcome;
    const max = this.#env.maxLogLineLength;
    let error = outcome.error;
    if (error !== null) {
      const safe: TaskErrorInfo = { code: error.code, message: this.#safeText(error.message, max) };
      error = error.stack === undefined ? safe : { ...safe, stack: this.#safeText(error.stack, max * 4) };
    }
    if (outcome.state !== 'succeeded') return { ...outcome, error };
    try {
      return { ...outcome, error, result: this.#redactor.value(outcome.result) };
    } catch (thrown) {
      return {
        state: 'failed',
        error: {
          code: 'PLUGBOARD_TASK_FAILED',
          message: `The task's result cannot be stored: ${describeThrown(thrown)}`,
        },
        retryable: false,
      };
    }
  }

  #finish(raw: AttemptOutcome): AttemptOutcome {
    this.#stop = undefined;
    const outcome = this.#safeOutcome(raw);
    if (this.#progressTimer) {
      clearTimeout(this.#progressTimer);
      this.#progressTimer = undefined;
    }
    this.#flushProgress();
    if (this.#linesDropped > 0) {
      this.#append({
        seq: ++this.#logSeq,
        time: this.#env.now(),
        level: 'warn',
        message: `${this.#linesDropped} log lines were dropped: one attempt of a task keeps at most ${this.#maxLines} (maxLogLinesPerAttempt).`,
      });
    }
    this.#flushLogs();
    this.#finished = true;
    if (this.#controller && !this.#controller.signal.aborted) {
      // Work a task started and did not await must learn that its task is over.
      this.#controller.abort(taskFinishedReason());
    }
    const patch: Partial<TaskRecord> = {
      state: outcome.state,
      finishedAt: this.#env.now(),
      error: outcome.error,
      result: outcome.state === 'succeeded' ? outcome.result : null,
      progress: outcome.state === 'succeeded' ? 100 : this.#record.progress,
      logCount: this.#logSeq,
    };
    this.#record = { ...this.#record, ...patch };
    this.#span?.end(this.#record, outcome.retryable, this.#env.retryPolicy(this.#record));
    return outcome;
  }

  #patch(patch: Partial<TaskRecord>): void {
    this.#record = { ...this.#record, ...patch };
    this.#env.store.updateTask(this.#record.id, patch).catch((error) => this.#env.reportError(error));
  }

  #emit(event: 'task:started' | 'task:log' | 'task:progress', payload: unknown): void {
    try {
      (this.#env.events.emit as (event: string, payload: unknown) => boolean)(event, payload);
    } catch (error) {
      // A throwing listener must not fail the task it listens to.
      this.#env.reportError(error);
    }
  }
}
