import type { EventEmitter } from 'eventemitter3';
import type { HostEvents } from './events.js';
import type { TaskStore } from './store.js';
import type { LogLevel, RetryPolicy, Task, TaskRecord } from './task.js';

/** A task rebuilt from its record, ready to run. */
export interface InstantiatedTask {
  readonly task: Task<unknown, unknown>;
  /** The plugin's resolved app properties, handed to `run` as `ctx.properties`. */
  readonly properties: unknown;
}

/** What the host hands a runtime when it starts: the store, the bus and how to rebuild tasks. */
export interface RuntimeEnvironment {
  readonly store: TaskStore;
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
  /** Progress events of one task are emitted at most once per this many milliseconds. */
  readonly progressIntervalMs: number;
  /** Reports a failure outside any task (a store write, a listener) without stopping the host. */
  reportError(error: unknown): void;
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
  start(env: RuntimeEnvironment): Promise<void>;
  /** Queues a task whose record is already stored as `queued`. */
  enqueue(record: TaskRecord): Promise<void>;
  /**
   * Cancels a queued or running task. Returns false when this runtime does not hold the task,
   * in which case the host records the cancellation itself.
   */
  cancel(id: string): Promise<boolean>;
  /** Stops taking tasks, lets running ones finish up to the timeout, aborts and records the rest. */
  stop(options: RuntimeStopOptions): Promise<void>;
  /** Counts for monitoring. */
  stats(): { readonly queued: number; readonly running: number };
}
