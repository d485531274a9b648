import type { EventEmitter } from 'eventemitter3';
import { describeThrown } from '../errors.js';
import type { HostEvents } from '../events.js';
import { invalidOption } from '../option-checks.js';
import type { LogLevel, TaskRecord } from '../task.js';

/**
 * A logger the host writes its own events to: the shape pino, bunyan-style and console loggers share, one method
 * per level taking an object of fields and a message. `pino()`, `console` and most platform loggers fit as they are.
 */
export interface HostLogger {
  /** Detail for diagnosing a problem (a task started, a schedule fired). */
  debug(fields: Record<string, unknown>, message: string): void;
  /** What the host did (it started, a plugin became operational, a task ended). */
  info(fields: Record<string, unknown>, message: string): void;
  /** Something a person may want to look at (a plugin is not operational, a task failed). */
  warn(fields: Record<string, unknown>, message: string): void;
  /** A fault outside any task: a store write refused, a listener that threw, a schedule that could not fire. */
  error(fields: Record<string, unknown>, message: string): void;
}

/** The most running tasks whose attempt the bridge remembers for their log lines. */
const MAX_TRACKED_ATTEMPTS = 10_000;

const LOGGER_METHODS = ['debug', 'info', 'warn', 'error'] as const;

/** Checks the `logger` host option: an object with the four level methods. */
export function checkLogger(value: unknown): void {
  if (value === undefined) return;
  if (value === null || typeof value !== 'object') {
    throw invalidOption('logger', 'an object with debug, info, warn and error methods', value);
  }
  for (const method of LOGGER_METHODS) {
    const fn = (value as Record<string, unknown>)[method];
    if (typeof fn !== 'function') throw invalidOption(`logger.${method}`, 'a function', fn);
  }
}

/** The logger's level a task's log level is written at; the task's own level is kept in the `taskLevel` field (`level` is the logger's). */
const TASK_LINE_LEVEL: Readonly<Record<LogLevel, keyof HostLogger>> = {
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  error: 'error',
  critical: 'error',
  always: 'info',
};

/** The fields every line about a task carries. */
function taskFields(record: TaskRecord): Record<string, unknown> {
  return {
    taskId: record.id,
    pluginId: record.pluginId,
    attempt: record.attempt,
    userId: record.user.id,
  };
}

/** What the start line says of the host's boot report. */
export interface StartReport {
  readonly durationMs: number;
  readonly plugins: readonly { readonly status: string }[];
  readonly store: string;
  readonly runtime: string;
  readonly recovery: unknown;
}

/** What {@link HostLogBridge} works with. */
export interface HostLogBridgeOptions {
  readonly logger: HostLogger;
  readonly events: EventEmitter<HostEvents>;
  /** Also write every line of the tasks' logs. */
  readonly taskLines: boolean;
  /** Replaces every registered plugin's secret values in a text. */
  readonly redact: (text: string) => string;
}

/**
 * Writes the host's events to its logger: plugin status changes, task ends, host faults and, when asked, the tasks'
 * log lines, each line with the task id, plugin id, attempt and user id as fields. Task text arrives with secrets
 * already replaced; host faults are redacted here, since they may quote any plugin's values.
 */
export class HostLogBridge {
  readonly #logger: HostLogger;
  readonly #events: EventEmitter<HostEvents>;
  readonly #redact: (text: string) => string;
  /** The attempt each running task is on, for its log lines (a log event names the task, not the attempt). */
  readonly #attempts = new Map<string, number>();
  readonly #listeners: { [E in keyof HostEvents]?: (...args: HostEvents[E]) => void } = {};

  constructor(options: HostLogBridgeOptions) {
    this.#logger = options.logger;
    this.#events = options.events;
    this.#redact = options.redact;
    const l = this.#listeners;
    l['plugin:status'] = ({ id, status, previous, reason }) => {
      const safeReason = reason === null ? null : this.#redact(reason);
      const fields = { event: 'plugin:status', pluginId: id, status, previous, reason: safeReason };
      const message = `Plugin ${id} is ${status}${safeReason ? `: ${safeReason}` : ''}`;
      this.#write(status === 'operational' || status === 'disabled' ? 'info' : 'warn', fields, message);
    };
    l['plugin:reloaded'] = (reload) => {
      this.#write('info', { event: 'plugin:reloaded', ...reload }, 'Plugin module reloaded');
    };
    l['task:started'] = (record) => {
      if (options.taskLines) this.#noteAttempt(record.id, record.attempt);
      this.#write(
        'debug',
        { event: 'task:started', ...taskFields(record) },
        `Task ${record.taskType} started`,
      );
    };
    l['task:finished'] = (record) => {
      this.#attempts.delete(record.id);
      const durationMs =
        record.startedAt !== null && record.finishedAt !== null ? record.finishedAt - record.startedAt : null;
      const fields = {
        event: 'task:finished',
        ...taskFields(record),
        state: record.state,
        durationMs,
        ...(record.error ? { errorCode: record.error.code, error: record.error.message } : {}),
      };
      const ended = `Task ${record.taskType} ${record.state}`;
      const problem =
        record.state === 'failed' || record.state === 'timed-out' || record.state === 'interrupted';
      this.#write(
        problem ? 'warn' : 'info',
        fields,
        record.error ? `${ended}: ${record.error.message}` : ended,
      );
    };
    l['schedule:fired'] = ({ id, pluginId, taskIds }) => {
      this.#write(
        'debug',
        { event: 'schedule:fired', scheduleId: id, pluginId, taskIds },
        `Schedule ${id} fired`,
      );
    };
    if (options.taskLines) {
      l['task:log'] = ({ id, pluginId, userId, entry }) => {
        this.#write(
          TASK_LINE_LEVEL[entry.level],
          {
            event: 'task:log',
            taskId: id,
            pluginId,
            attempt: this.#attempts.get(id) ?? null,
            userId,
            taskLevel: entry.level,
            seq: entry.seq,
            time: entry.time,
          },
          entry.message,
        );
      };
    }
    for (const [event, listener] of Object.entries(l)) {
      this.#events.on(event as keyof HostEvents, listener as (...args: unknown[]) => void);
    }
  }

  /** The host started: one line with what it found. */
  started(report: StartReport): void {
    const operational = report.plugins.filter((p) => p.status === 'operational').length;
    const fields = {
      event: 'host:started',
      durationMs: Math.round(report.durationMs),
      plugins: report.plugins.length,
      operational,
      store: report.store,
      runtime: report.runtime,
      recovery: report.recovery,
    };
    this.#write(
      'info',
      fields,
      `Plugboard host started: ${operational} of ${report.plugins.length} plugins operational`,
    );
  }

  /** The host stopped: its last line; the bridge stops listening. */
  stopped(): void {
    for (const [event, listener] of Object.entries(this.#listeners)) {
      this.#events.off(event as keyof HostEvents, listener as (...args: unknown[]) => void);
    }
    this.#attempts.clear();
    this.#write('info', { event: 'host:stopped' }, 'Plugboard host stopped');
  }

  /** A fault outside any task, with its code and stack, every plugin's secrets replaced. */
  error(error: Error): void {
    const code = (error as { code?: unknown }).code;
    const message = this.#redact(error.message);
    // An Error, so loggers format it as one (pino's `err` serializer, console's stack).
    const err = new Error(message) as Error & { code?: string };
    err.name = error.name;
    err.stack = typeof error.stack === 'string' ? this.#redact(error.stack) : `${error.name}: ${message}`;
    if (typeof code === 'string') err.code = code;
    this.#write(
      'error',
      { event: 'host:error', ...(typeof code === 'string' ? { code } : {}), err },
      message,
    );
  }

  #noteAttempt(id: string, attempt: number): void {
    this.#attempts.delete(id);
    this.#attempts.set(id, attempt);
    // A process that never sees the end of the tasks it runs (a BullMQ worker: the API records the ends) forgets
    // the oldest instead of growing.
    if (this.#attempts.size > MAX_TRACKED_ATTEMPTS)
      this.#attempts.delete(this.#attempts.keys().next().value!);
  }

  #write(level: keyof HostLogger, fields: Record<string, unknown>, message: string): void {
    try {
      this.#logger[level](fields, message);
    } catch (error) {
      // A logger that throws must not fail the task or the host call that wrote to it.
      console.error(`Plugboard: the host's logger threw on a ${level} line: ${describeThrown(error)}`);
    }
  }
}
