import { describeThrown, PlugboardError } from './errors.js';
import type { RuntimeEnvironment } from './runtime.js';
import {
  LOG_LEVEL_RANK,
  type LogLevel,
  type RetryPolicy,
  TaskError,
  type TaskErrorInfo,
  type TaskLogEntry,
  type TaskLogger,
  type TaskRecord,
  type TaskState,
} from './task.js';

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
const LOG_LEVELS = Object.keys(LOG_LEVEL_RANK) as LogLevel[];

function errorInfo(thrown: unknown): TaskErrorInfo {
  const own = (thrown as { code?: unknown } | null)?.code;
  const code =
    thrown instanceof PlugboardError || thrown instanceof TaskError
      ? thrown.code
      : typeof own === 'string' && (own.startsWith('PLUGBOARD_') || (thrown as Error).name === 'TaskError')
        ? own
        : 'PLUGBOARD_TASK_FAILED';
  const info: TaskErrorInfo = { code, message: describeThrown(thrown) };
  return thrown instanceof Error && thrown.stack ? { ...info, stack: thrown.stack } : info;
}

function toJson(value: unknown): unknown {
  if (value === undefined) return null;
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
  #logBuffer: TaskLogEntry[] = [];
  #logFlushScheduled = false;
  #logSeq: number;
  #progressTimer: ReturnType<typeof setTimeout> | undefined;
  #progressDirty = false;
  #lastProgressEmit = 0;
  #failure: { reason: string; retryable: boolean } | undefined;
  readonly #minLevel: number;

  constructor(env: RuntimeEnvironment, record: TaskRecord) {
    this.#env = env;
    this.#record = record;
    this.#logSeq = record.logCount;
    this.#minLevel = LOG_LEVEL_RANK[env.logLevel];
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
    this.#signalController().abort(new PlugboardError(code, message));
    this.#stop?.({ state, error: { code, message }, retryable: false });
  }

  #signalController(): AbortController {
    this.#controller ??= new AbortController();
    return this.#controller;
  }

  /** Runs the attempt and records its outcome; never rejects. */
  async run(): Promise<AttemptOutcome> {
    const env = this.#env;
    const startedAt = env.now();
    this.#patch({ state: 'running', startedAt, finishedAt: null, progress: 0, progressMessage: null });
    this.#emit('task:started', this.#record);

    let instantiated: ReturnType<RuntimeEnvironment['instantiate']>;
    try {
      instantiated = env.instantiate(this.#record);
    } catch (error) {
      return this.#finish({ state: 'failed', error: errorInfo(error), retryable: false });
    }

    let timer: ReturnType<typeof setTimeout> | undefined;
    if (this.#record.timeoutMs !== null) {
      const ms = this.#record.timeoutMs;
      timer = setTimeout(
        () => this.abort('timed-out', `The task ran longer than its timeout of ${ms} ms.`),
        ms,
      );
    }

    const ctx = this.#context(instantiated.properties);
    const work = Promise.resolve()
      .then(() => instantiated.task.run(ctx))
      .then(
        (result): AttemptOutcome => {
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
        },
        (thrown): AttemptOutcome => ({
          state: 'failed',
          error: errorInfo(thrown),
          retryable: (thrown as { retryable?: unknown } | null)?.retryable !== false,
        }),
      );

    // Settles with the task's own outcome, or earlier when cancel, timeout or shutdown call `abort`.
    const outcome = await new Promise<AttemptOutcome>((resolve) => {
      this.#stop = resolve;
      work.then(resolve);
    });
    if (timer) clearTimeout(timer);
    return this.#finish(outcome);
  }

  #context(properties: unknown) {
    const record = this.#record;
    const execution = this;
    let log: TaskLogger | undefined;
    return {
      taskId: record.id,
      pluginId: record.pluginId,
      attempt: record.attempt,
      user: record.user,
      get signal(): AbortSignal {
        return execution.#signalController().signal;
      },
      // Built on first use: a task that never logs does not pay for six closures.
      get log(): TaskLogger {
        if (!log) {
          const methods = {} as Record<LogLevel, (message: string) => void>;
          for (const level of LOG_LEVELS)
            methods[level] = (message: string) => execution.#log(level, message);
          log = methods as unknown as TaskLogger;
        }
        return log;
      },
      properties: properties as Record<string, unknown>,
      progress: (percent: number, message?: string) => this.#progress(percent, message),
      status: (text: string) => {
        if (this.#finished) return;
        this.#record = { ...this.#record, statusText: String(text).slice(0, 500) };
        this.#progressChanged();
      },
      fail: (reason: string, options?: { retryable?: boolean }) => {
        this.#failure = { reason: String(reason), retryable: options?.retryable ?? true };
      },
    };
  }

  #log(level: LogLevel, message: unknown): void {
    if (this.#finished) return;
    if (level !== 'always' && LOG_LEVEL_RANK[level] < this.#minLevel) return;
    let text = typeof message === 'string' ? message : describeThrown(message);
    const max = this.#env.maxLogLineLength;
    if (text.length > max) text = `${text.slice(0, max)}… [${text.length - max} characters cut]`;
    const entry: TaskLogEntry = { seq: ++this.#logSeq, time: this.#env.now(), level, message: text };
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
    if (this.#logBuffer.length === 0) return;
    const batch = this.#logBuffer;
    this.#logBuffer = [];
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
      progressMessage: message === undefined ? this.#record.progressMessage : String(message).slice(0, 500),
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

  async #finish(outcome: AttemptOutcome): Promise<AttemptOutcome> {
    this.#stop = undefined;
    if (this.#progressTimer) {
      clearTimeout(this.#progressTimer);
      this.#progressTimer = undefined;
    }
    this.#flushProgress();
    this.#flushLogs();
    this.#finished = true;
    if (this.#controller && !this.#controller.signal.aborted) {
      // Work a task started and did not await must learn that its task is over.
      this.#controller.abort(new PlugboardError('PLUGBOARD_TASK_CANCELLED', 'The task has finished.'));
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

/** The delay before the next attempt, or `undefined` when no attempt is left. */
export function retryDelay(
  policy: RetryPolicy | undefined,
  attempt: number,
  maxAttempts: number,
): number | undefined {
  if (attempt >= maxAttempts) return undefined;
  const backoff = policy?.backoff ?? { type: 'exponential', delayMs: 1000 };
  return backoff.type === 'fixed' ? backoff.delayMs : backoff.delayMs * 2 ** (attempt - 1);
}
