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
  /** How important the line is. */
  readonly level: LogLevel;
  /** The text, cut to the host's `maxLogLineLength`. */
  readonly message: string;
}

/** The levelled logger a task writes to. */
export interface TaskLogger {
  /** Detail for diagnosing a problem; dropped unless the host's log level is `debug`. */
  debug(message: string): void;
  /** What the task is doing. */
  info(message: string): void;
  /** Something a person may want to look at; the task goes on. */
  warn(message: string): void;
  /** Something failed; the task may still go on or fail. */
  error(message: string): void;
  /** Something failed badly enough that a person should act. */
  critical(message: string): void;
  /** Written whatever the level filter. */
  always(message: string): void;
}

/** A recorded error: a stable code, a message and, where known, the stack (never sent to HTTP clients). */
export interface TaskErrorInfo {
  /** A stable code: a `PLUGBOARD_*` code or the `code` of a thrown {@link TaskError}. */
  readonly code: string;
  /** What went wrong. */
  readonly message: string;
  /** The stack of the thrown error, for diagnosis. */
  readonly stack?: string;
  /** Who cancelled the task, when a person did (`host.tasks.cancel(id, { by })`). */
  readonly cancelledBy?: {
    /** The id of the user who cancelled it. */
    readonly id: string;
    /** Their display name; `null` when the user had none. */
    readonly name: string | null;
  };
}

/** Everything the host keeps about one task. */
export interface TaskRecord {
  /** The task's id; ids sort by creation time. */
  readonly id: string;
  /** The plugin that created the task. */
  readonly pluginId: string;
  /** `<pluginId>/<task type>`: how any process finds the class to rebuild the task from its input. */
  readonly taskType: string;
  /** The JSON input the task was created from. */
  readonly input: unknown;
  /** The executing user. */
  readonly user: PlugboardUser;
  /** Where the task is in its lifecycle. */
  readonly state: TaskState;
  /** 0 to 100. */
  readonly progress: number;
  /** The message given with the latest progress report. */
  readonly progressMessage: string | null;
  /** The one-line status text the task set last. */
  readonly statusText: string | null;
  /** When the task was queued (ms since epoch). */
  readonly createdAt: number;
  /** When its current attempt started (ms since epoch); `null` while queued. */
  readonly startedAt: number | null;
  /** When it reached a final state (ms since epoch); `null` until then. */
  readonly finishedAt: number | null;
  /** What `run` returned, once the task succeeded. */
  readonly result?: unknown;
  /** Why the task failed, timed out, was cancelled or interrupted; `null` otherwise. */
  readonly error: TaskErrorInfo | null;
  /** 1 for the first run; grows with each retry. */
  readonly attempt: number;
  /** Total runs allowed, from the task type's retry policy. */
  readonly maxAttempts: number;
  /** Higher runs sooner. */
  readonly priority: number;
  /** Milliseconds; `null` means no timeout. */
  readonly timeoutMs: number | null;
  /** The schedule that created this task, for background runs. */
  readonly scheduleId: string | null;
  /** The context object id, for context plugins. */
  readonly contextId: string | null;
  /** Lines written to the task's log so far (the `seq` of the last line). */
  readonly logCount: number;
  /** The task that started this one with `ctx.spawn`; absent (or `null`) for a task of an execution or schedule. */
  readonly parentId?: string | null;
  /**
   * Why a queued task does not start yet, e.g. `waiting for a slot of plugin resize`; absent (or `null`) when
   * nothing but a free slot of the runtime holds it back.
   */
  readonly waitingReason?: string | null;
}

/** What a task's `run` receives. */
export interface TaskContext<
  User extends PlugboardUser = PlugboardUser,
  Properties = Record<string, unknown>,
> {
  /** The id of the task's record. */
  readonly taskId: string;
  /** The plugin that created the task. */
  readonly pluginId: string;
  /** 1 for the first run; grows with each retry. */
  readonly attempt: number;
  /** The executing user. Scheduled runs use {@link SYSTEM_USER}. */
  readonly user: User;
  /** Fires on cancel, on timeout and on host shutdown; `signal.reason` says which. */
  readonly signal: AbortSignal;
  /** The task's levelled log, which people read next to the task. */
  readonly log: TaskLogger;
  /** Reports progress in percent (clamped to 0..100; NaN is ignored), with an optional message. */
  progress(percent: number, message?: string): void;
  /** Sets the one-line status text people see next to the progress. */
  status(text: string): void;
  /** Marks the task failed with a reason without throwing; what `run` returns afterwards is ignored. */
  fail(reason: string, options?: { readonly retryable?: boolean }): void;
  /** The plugin's resolved app properties. */
  readonly properties: Properties;
  /**
   * Queues a child task of a type this plugin lists. The child runs as the same user, records this task as its
   * `parentId`, and is cancelled when this task is cancelled, times out or is interrupted. Resolves once the child
   * is stored and queued; `wait()` on what it returns resolves with the child's final record.
   */
  spawn(task: Task<any, any>, options?: SpawnOptions): Promise<ChildTask>;
}

/** Options of `ctx.spawn`. */
export interface SpawnOptions {
  /**
   * Higher runs sooner.
   * @default the parent's priority
   */
  readonly priority?: number;
  /**
   * Overrides the child's timeout in milliseconds; `null` for none.
   * @default the task type's, the plugin's or the host's timeout
   */
  readonly timeoutMs?: number | null;
}

/** A child task started by `ctx.spawn`. */
export interface ChildTask {
  /** The child's task id. */
  readonly id: string;
  /** Resolves with the child's record once it reaches a final state (it does not reject when the child fails). */
  wait(): Promise<TaskRecord>;
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
  readonly backoff?: {
    /** `fixed` waits `delayMs` each time; `exponential` doubles it on each attempt. */
    readonly type: 'fixed' | 'exponential';
    /** The first delay, in milliseconds. */
    readonly delayMs: number;
  };
}

/** Throw this from `run` to fail with a coded reason; `retryable: false` stops retries. */
export class TaskError extends Error {
  /** Always `'TaskError'`. */
  override readonly name = 'TaskError';
  /** The code recorded on the task. @default 'PLUGBOARD_TASK_FAILED' */
  readonly code: string;
  /** False when a retry cannot help: the task fails at once whatever its retry policy. @default true */
  readonly retryable: boolean;
  constructor(message: string, options: { code?: string; retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? 'PLUGBOARD_TASK_FAILED';
    this.retryable = options.retryable ?? true;
  }
}

const TASK_MARK = Symbol.for('plugboard.task');

/**
 * Background work created by a plugin from JSON-serialisable input. The same input rebuilds the task in
 * this process or on a remote worker, so a subclass's constructor must accept the input as its only argument.
 */
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
  /** A stable name for this task type within its plugin; defaults to the class name. */
  readonly taskType?: string;
  /** Retry policy for this task type. */
  readonly retry?: RetryPolicy;
  /** Default timeout in milliseconds for this task type (overrides the plugin's). */
  readonly timeoutMs?: number;
  /** True when a run interrupted by a crash may safely run again from the start. */
  readonly retrySafe?: boolean;
};

/** The name a task class is registered under within its plugin. */
export function taskTypeName(cls: TaskClass): string {
  return cls.taskType ?? cls.name;
}
