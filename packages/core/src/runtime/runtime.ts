import type { EventEmitter } from 'eventemitter3';
import type { HostEvents } from '../events.js';
import type { AttemptTelemetry } from '../observability/task-tracing.js';
import type { ScheduleRecord, TaskStore } from '../store/store.js';
import type { LogLevel, RetryPolicy, SpawnOptions, Task, TaskRecord } from '../task.js';
import type { ChildRequest } from './child-tasks.js';
import type { PluginLimits } from './plugin-limits.js';

/** A task rebuilt from its record, ready to run. */
export interface InstantiatedTask {
  /** The task instance, built by its class from the record's input. */
  readonly task: Task<unknown, unknown>;
  /** The plugin's resolved app properties, handed to `run` as `ctx.properties`. */
  readonly properties: unknown;
  /**
   * The values of the plugin's secret App Properties (`writeOnly: true`): replaced by `[secret]` in the task's
   * log lines, status and progress text, result and error before they are stored or emitted.
   */
  readonly secrets?: readonly string[];
}

/** What the host hands a runtime when it starts: the store, the bus and how to rebuild tasks. */
export interface RuntimeEnvironment {
  /** Where the runtime keeps task records and logs up to date. */
  readonly store: TaskStore;
  /** The host's event bus, on which the runtime emits `task:started`, `task:progress`, `task:log` and `task:finished`. */
  readonly events: EventEmitter<HostEvents>;
  /** Rebuilds a task from its registered type and JSON input; throws a coded error for an unknown type. */
  instantiate(record: TaskRecord): InstantiatedTask;
  /** The retry policy of the record's task type, if it has one. */
  retryPolicy(record: TaskRecord): RetryPolicy | undefined;
  /** The host's clock. */
  now(): number;
  /** Lines below this level are dropped (`always` is kept). */
  readonly logLevel: LogLevel;
  /** Longer log lines are cut to this many characters. */
  readonly maxLogLineLength: number;
  /**
   * The most log lines one attempt of a task writes; later lines are counted and dropped, and one line at the
   * end says how many. @default 10000
   */
  readonly maxLogLinesPerAttempt?: number;
  /** Runs each task so that a `process.exit` call from it is refused (the host installs the guard). */
  readonly guardProcessExit?: boolean;
  /** Progress events of one task are emitted at most once per this many milliseconds. */
  readonly progressIntervalMs: number;
  /** Reports a failure outside any task (a store write, a listener) without stopping the host. */
  reportError(error: unknown): void;
  /**
   * Runs a due firing of a schedule the runtime keeps ({@link TaskRuntime.schedules}): creates and queues the
   * plugin's tasks as the host's own timer would, or skips the firing while the previous run is unfinished.
   * Resolves with the schedule as stored afterwards; rejects with `PLUGBOARD_UNKNOWN_SCHEDULE` when this host
   * has not armed the schedule.
   */
  fireSchedule(id: string, dueAt: number): Promise<ScheduleRecord>;
  /** The limits that hold for a plugin's tasks (its own, overridden by the host's); `undefined` for none. */
  pluginLimits?(pluginId: string): PluginLimits | undefined;
  /**
   * Stores and queues a child of the running task `parent` (`ctx.spawn`) and resolves with its record; absent
   * where children cannot be started, and `ctx.spawn` then refuses with `PLUGBOARD_SPAWN_UNAVAILABLE`.
   */
  spawnChild?(parent: TaskRecord, child: ChildRequest, options: SpawnOptions): Promise<TaskRecord>;
  /**
   * Builds the queued record of a child of `parent` without storing or queuing it: for runtimes that queue children
   * their own way (a BullMQ worker adds the job itself).
   */
  buildChild?(parent: TaskRecord, child: ChildRequest, options: SpawnOptions): TaskRecord;
  /** Resolves with a task's record once it reaches a final state (a child's `wait()`). */
  waitForTask?(id: string): Promise<TaskRecord>;
  /**
   * Traces each attempt (a span per attempt, a child of the context the runtime runs it in); absent when the host
   * records no spans.
   */
  readonly telemetry?: AttemptTelemetry;
}

/** A background-task schedule as the host asks a runtime to keep it. */
export interface RuntimeScheduleRequest {
  /** The schedule's stable id (the plugin id). */
  readonly id: string;
  /** The background-task plugin the schedule runs. */
  readonly pluginId: string;
  /** Seconds after host start before the first run. */
  readonly delaySeconds: number;
  /** Seconds between runs; `0` runs once. */
  readonly repeatSeconds: number;
  /** A cron expression that fires the schedule instead of `repeatSeconds` (5 fields, or 6 with seconds). */
  readonly cron?: string | null;
  /** The IANA time zone of `cron`. */
  readonly timeZone?: string | null;
  /** False keeps a schedule the runtime already holds under this id as it is. */
  readonly replaceExisting: boolean;
  /**
   * When the first run is due (ms since epoch) if the runtime arms the schedule anew: the delay from now, or the
   * next run the host's store kept when `replaceExisting` is false; `null` when it is not to run again.
   */
  readonly firstRunAt: number | null;
}

/** The schedule a runtime holds once armed: the one requested, or the earlier one it kept. */
export interface RuntimeScheduleState {
  /** Seconds after the schedule was armed before its first run. */
  readonly delaySeconds: number;
  /** Seconds between runs; `0` runs once. */
  readonly repeatSeconds: number;
  /** The cron expression it fires on; `null` (or absent) for a delay and repeat schedule. */
  readonly cron?: string | null;
  /** The IANA time zone of `cron`. */
  readonly timeZone?: string | null;
  /** When it fires next (ms since epoch); `null` when it will not fire again. */
  readonly nextRunAt: number | null;
}

/**
 * Background-task schedules kept by the runtime instead of the host's own timer, so processes that share the
 * runtime share each schedule: it fires once per due time, in one of them, through
 * {@link RuntimeEnvironment.fireSchedule}.
 */
export interface RuntimeSchedules {
  /** Arms a schedule (or keeps the one held under its id, when `replaceExisting` is false). */
  arm(request: RuntimeScheduleRequest): Promise<RuntimeScheduleState>;
}

/** Options of `host.tasks.cancel` and of a runtime's `cancel`. */
export interface CancelOptions {
  /**
   * Abort a running task's signal but record it `cancelled` only once its code has stopped: a task that ignores
   * its signal stays `running` (and is recorded `interrupted` if the host stops first). Without it a running task
   * is recorded `cancelled` at once, whatever its code does next. Runtimes that cannot wait settle at once.
   * @default false
   */
  readonly waitForStop?: boolean;
}

/** Options of a runtime's `stop`. */
export interface RuntimeStopOptions {
  /** How long running tasks may take to finish before they are aborted and recorded `interrupted`. */
  readonly timeoutMs: number;
}

/** Where tasks execute: in this process (the default) or on remote workers. Plugin code is the same on both. */
export interface TaskRuntime {
  /** A short name for reports, e.g. `in-process`. */
  readonly name: string;
  /** True when the runtime keeps its own durable queue, so the host must not re-queue unfinished tasks at start. */
  readonly recoversOwnTasks?: boolean;
  /**
   * True when every host process on the runtime already receives every task's events from it (as BullMQ's update
   * stream delivers them), so a store shared by the processes does not send them again.
   */
  readonly deliversEventsEverywhere?: boolean;
  /** When present, background-task schedules are kept here, not on the host's timer. */
  readonly schedules?: RuntimeSchedules;
  /** Starts taking tasks; called once by `host.start()`, before any task is queued. */
  start(env: RuntimeEnvironment): Promise<void>;
  /** Queues a task whose record is already stored as `queued`. */
  enqueue(record: TaskRecord): Promise<void>;
  /**
   * Cancels a queued or running task. Returns false when this runtime does not hold the task,
   * in which case the host records the cancellation itself.
   */
  cancel(id: string, options?: CancelOptions): Promise<boolean>;
  /** Stops taking tasks, lets running ones finish up to the timeout, aborts and records the rest. */
  stop(options: RuntimeStopOptions): Promise<void>;
  /** Counts for monitoring. */
  stats(): {
    /** Tasks waiting for a free slot. */
    readonly queued: number;
    /** Tasks running now. */
    readonly running: number;
  };
}
