/**
 * The user a task runs for. Hosts add their own fields by augmenting this interface:
 *
 * @example
 * declare module '@plugboard/core' {
 *   interface PlugboardUser { email: string }
 * }
 */
export interface PlugboardUser {
  /** A stable id; tasks are listed and authorised by it. */
  id: string;
  /** A name to show people. */
  name?: string;
  /** Permissions checked against a plugin's `permissions` by the default authorisation. */
  permissions?: readonly string[];
}

/** The user scheduled background runs execute as. */
export const SYSTEM_USER: PlugboardUser = Object.freeze({ id: 'plugboard:system', name: 'System' });

/** The user of an execution that named none: it holds no permissions. */
export const ANONYMOUS_USER: PlugboardUser = Object.freeze({
  id: 'anonymous',
  name: 'Anonymous',
  permissions: [],
});

/** A task's lifecycle states; the last five are final. */
export type TaskState =
  | 'queued'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'cancelled'
  | 'timed-out'
  | 'interrupted';

/** The states from which a task never moves again. */
export const FINAL_TASK_STATES: ReadonlySet<TaskState> = new Set([
  'succeeded',
  'failed',
  'cancelled',
  'timed-out',
  'interrupted',
]);

/** True when `state` is final. */
export function isFinalState(state: TaskState): boolean {
  return FINAL_TASK_STATES.has(state);
}

/** Log levels, lowest first. `always` is shown whatever the level filter. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'critical' | 'always';

/** Ranks of {@link LogLevel}s, used by level filters. */
export const LOG_LEVEL_RANK: Readonly<Record<LogLevel, number>> = {
  debug: 10,
  info: 20,
  warn: 30,
  error: 40,
  critical: 50,
  always: 100,
};

/** One line of a task's log. */
export interface TaskLogEntry {
  /** Position in the task's log, from 1; `logs(id, { after })` pages by it. */
  readonly seq: number;
  /** Milliseconds since the epoch. */
  readonly time: number;
  readonly level: LogLevel;
  readonly message: string;
}

/** The levelled logger a task writes to. */
export interface TaskLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  critical(message: string): void;
  /** Written whatever the level filter. */
  always(message: string): void;
}

/** A recorded error: a stable code, a message and, where known, the stack (never sent to HTTP clients). */
export interface TaskErrorInfo {
  readonly code: string;
  readonly message: string;
  readonly stack?: string;
}

/** Everything the host keeps about one task. */
export interface TaskRecord {
  readonly id: string;
  readonly pluginId: string;
  /** `<pluginId>/<task type>`: how any process finds the class to rebuild the task from its input. */
  readonly taskType: string;
  readonly input: unknown;
  /** The executing user. */
  readonly user: PlugboardUser;
  readonly state: TaskState;
  /** 0 to 100. */
  readonly progress: number;
  readonly progressMessage: string | null;
  readonly statusText: string | null;
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly result?: unknown;
  readonly error: TaskErrorInfo | null;
  /** 1 for the first run; grows with each retry. */
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly priority: number;
  /** Milliseconds; `null` means no timeout. */
  readonly timeoutMs: number | null;
  /** The schedule that created this task, for background runs. */
  readonly scheduleId: string | null;
  /** The context object id, for context plugins. */
  readonly contextId: string | null;
  /** Lines written to the task's log so far (the `seq` of the last line). */
  readonly logCount: number;
}

/** What a task's `run` receives. */
export interface TaskContext<
  User extends PlugboardUser = PlugboardUser,
  Properties = Record<string, unknown>,
> {
  readonly taskId: string;
  readonly pluginId: string;
  /** 1 for the first run; grows with each retry. */
  readonly attempt: number;
  /** The executing user. Scheduled runs use {@link SYSTEM_USER}. */
  readonly user: User;
  /** Fires on cancel, on timeout and on host shutdown; `signal.reason` says which. */
  readonly signal: AbortSignal;
  readonly log: TaskLogger;
  /** Reports progress in percent (clamped to 0..100; NaN is ignored), with an optional message. */
  progress(percent: number, message?: string): void;
  /** Sets the one-line status text people see next to the progress. */
  status(text: string): void;
  /** Marks the task failed with a reason without throwing; what `run` returns afterwards is ignored. */
  fail(reason: string, options?: { readonly retryable?: boolean }): void;
  /** The plugin's resolved app properties. */
  readonly properties: Properties;
}

/** Retry policy of a task type. */
export interface RetryPolicy {
  /**
   * Total runs allowed, the first included.
   * @default 1
   */
  readonly attempts: number;
  /**
   * Delay before a retry: fixed, or doubling from `delayMs` on each attempt.
   * @default { type: 'exponential', delayMs: 1000 }
   */
  readonly backoff?: { readonly type: 'fixed' | 'exponential'; readonly delayMs: number };
}

/** Throw this from `run` to fail with a coded reason; `retryable: false` stops retries. */
export class TaskError extends Error {
  override readonly name = 'TaskError';
  readonly code: string;
  readonly retryable: boolean;
  constructor(message: string, options: { code?: string; retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? 'PLUGBOARD_TASK_FAILED';
    this.retryable = options.retryable ?? true;
  }
}

/**
 * Background work created by a plugin from JSON-serialisable input. The same input rebuilds the task in
 * this process or on a remote worker, so a subclass's constructor must accept the input as its only argument.
 */
const TASK_MARK = Symbol.for('plugboard.task');

export abstract class Task<Input = unknown, Result = unknown> {
  /** Marks task classes across copies of @plugboard/core. */
  static readonly [TASK_MARK] = true;
  /** A stable name for this task type within its plugin; defaults to the class name. */
  static taskType?: string;
  /** Retry policy for this task type. */
  static retry?: RetryPolicy;
  /** Default timeout in milliseconds for this task type (overrides the plugin's). */
  static timeoutMs?: number;
  /** True when a run interrupted by a crash may safely run again from the start. */
  static retrySafe?: boolean;

  /** The JSON-serialisable input the task was created from. */
  readonly input: Input;

  constructor(input: Input) {
    this.input = input;
  }

  /** Does the work; the returned value (JSON-serialisable) becomes the task's result. */
  abstract run(ctx: TaskContext): Promise<Result> | Result;
}

/** True when `value` is a task instance, whichever copy of @plugboard/core its class came from. */
export function isTask(value: unknown): value is Task<unknown, unknown> {
  return (
    value !== null &&
    typeof value === 'object' &&
    (value.constructor as unknown as Record<symbol, unknown> | undefined)?.[TASK_MARK] === true
  );
}

/** True when `value` is a class extending {@link Task}. */
export function isTaskClass(value: unknown): value is TaskClass {
  return (
    typeof value === 'function' &&
    (value as unknown as Record<symbol, unknown>)[TASK_MARK] === true &&
    value !== Task
  );
}

/** A concrete task class, as listed in a plugin's `tasks`. */
export type TaskClass = (new (
  input: any,
) => Task<any, any>) & {
  readonly taskType?: string;
  readonly retry?: RetryPolicy;
  readonly timeoutMs?: number;
  readonly retrySafe?: boolean;
};

/** The name a task class is registered under within its plugin. */
export function taskTypeName(cls: TaskClass): string {
  return cls.taskType ?? cls.name;
}
