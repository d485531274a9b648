// The `ctx` object a task's `run` receives, apart from the attempt it reports to (task-execution.ts).
import { LOG_LEVEL_RANK, type LogLevel, type TaskLogger, type TaskRecord } from '../task.js';
import type { spawnFunction } from './child-tasks.js';
import type { TaskExecution } from './task-execution.js';

const LOG_LEVELS = Object.keys(LOG_LEVEL_RANK) as LogLevel[];

/** How the context reaches the private members of its attempt. */
export interface AttemptAccess {
  signal(execution: TaskExecution): AbortSignal;
  log(execution: TaskExecution, level: LogLevel, message: unknown): void;
  progress(execution: TaskExecution, percent: number, message?: string): void;
  status(execution: TaskExecution, text: string): void;
  fail(execution: TaskExecution, reason: string, options?: { readonly retryable?: boolean }): void;
  spawn(execution: TaskExecution): ReturnType<typeof spawnFunction>;
}

// Set by TaskExecution's static block, which alone can reach its private members.
let attemptAccess: AttemptAccess;

/** Called once, by TaskExecution's static block. */
export function provideAttemptAccess(access: AttemptAccess): void {
  attemptAccess = access;
}

/**
 * The `ctx` a task's `run` receives. One object per attempt: its functions are built on first read (and then
 * kept), so a task that never logs or reports progress pays for none of them, and taking them apart
 * (`run({ log, progress })`) still works.
 */
export class AttemptContext {
  readonly taskId: string;
  readonly pluginId: string;
  readonly attempt: number;
  readonly user: TaskRecord['user'];
  readonly properties: Record<string, unknown>;
  readonly #execution: TaskExecution;
  #log: TaskLogger | undefined;
  #progress: ((percent: number, message?: string) => void) | undefined;
  #status: ((text: string) => void) | undefined;
  #fail: ((reason: string, options?: { readonly retryable?: boolean }) => void) | undefined;
  #spawn: ReturnType<typeof spawnFunction> | undefined;

  constructor(execution: TaskExecution, record: TaskRecord, properties: Record<string, unknown>) {
    this.taskId = record.id;
    this.pluginId = record.pluginId;
    this.attempt = record.attempt;
    this.user = record.user;
    this.properties = properties;
    this.#execution = execution;
  }

  get signal(): AbortSignal {
    return attemptAccess.signal(this.#execution);
  }

  get log(): TaskLogger {
    if (!this.#log) {
      const execution = this.#execution;
      const methods = {} as Record<LogLevel, (message: string) => void>;
      for (const level of LOG_LEVELS)
        methods[level] = (message: string) => attemptAccess.log(execution, level, message);
      this.#log = methods as unknown as TaskLogger;
    }
    return this.#log;
  }

  get progress(): (percent: number, message?: string) => void {
    const execution = this.#execution;
    this.#progress ??= (percent, message) => attemptAccess.progress(execution, percent, message);
    return this.#progress;
  }

  get status(): (text: string) => void {
    const execution = this.#execution;
    this.#status ??= (text) => attemptAccess.status(execution, text);
    return this.#status;
  }

  get fail(): (reason: string, options?: { readonly retryable?: boolean }) => void {
    const execution = this.#execution;
    this.#fail ??= (reason, options) => attemptAccess.fail(execution, reason, options);
    return this.#fail;
  }

  // Built on use: most tasks never start children.
  get spawn(): ReturnType<typeof spawnFunction> {
    this.#spawn ??= attemptAccess.spawn(this.#execution);
    return this.#spawn;
  }
}
