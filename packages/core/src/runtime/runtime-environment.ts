import type { EventEmitter } from 'eventemitter3';
import type { HostEvents } from '../events.js';
import type { AttemptTelemetry } from '../observability/task-tracing.js';
import type { ScheduleRecord, TaskStore } from '../store/store.js';
import type { LogLevel, SpawnOptions, TaskRecord } from '../task.js';
import type { ChildRequest } from './child-tasks.js';
import type { PluginLimits } from './plugin-limits.js';
import type { RuntimeEnvironment } from './runtime.js';
import { DEFAULT_MAX_LOG_LINES_PER_ATTEMPT } from './task-execution.js';
import type { TaskFactory } from './task-factory.js';

/** What a runtime's environment is made of; unset limits take their defaults. */
export interface RuntimeEnvironmentParts {
  readonly store: TaskStore;
  readonly events: EventEmitter<HostEvents>;
  readonly tasks: TaskFactory;
  readonly logLevel?: LogLevel;
  readonly maxLogLineLength?: number;
  readonly maxLogLinesPerAttempt?: number;
  readonly guardProcessExit?: boolean;
  readonly progressIntervalMs?: number;
  reportError(error: unknown): void;
  fireSchedule(id: string, dueAt: number): Promise<ScheduleRecord>;
  pluginLimits?(pluginId: string): PluginLimits | undefined;
  spawnChild?(parent: TaskRecord, child: ChildRequest, options: SpawnOptions): Promise<TaskRecord>;
  waitForTask?(id: string): Promise<TaskRecord>;
  buildChild?(parent: TaskRecord, child: ChildRequest, options: SpawnOptions): TaskRecord;
  readonly telemetry?: AttemptTelemetry;
}

/**
 * The environment a runtime is handed at start. Tasks are rebuilt by the {@link TaskFactory} straight from the
 * plugin registry: an attempt goes from the runtime to `Task.run` without calling back into the host.
 */
export function runtimeEnvironment(parts: RuntimeEnvironmentParts): RuntimeEnvironment {
  const { tasks } = parts;
  return {
    store: parts.store,
    events: parts.events,
    now: () => Date.now(),
    logLevel: parts.logLevel ?? 'info',
    maxLogLineLength: parts.maxLogLineLength ?? 8192,
    maxLogLinesPerAttempt: parts.maxLogLinesPerAttempt ?? DEFAULT_MAX_LOG_LINES_PER_ATTEMPT,
    guardProcessExit: parts.guardProcessExit ?? false,
    progressIntervalMs: parts.progressIntervalMs ?? 100,
    reportError: parts.reportError,
    fireSchedule: parts.fireSchedule,
    pluginLimits: parts.pluginLimits,
    spawnChild: parts.spawnChild,
    waitForTask: parts.waitForTask,
    buildChild: parts.buildChild,
    instantiate: (record) => tasks.instantiate(record),
    retryPolicy: (record) => tasks.retryPolicy(record),
    ...(parts.telemetry ? { telemetry: parts.telemetry } : {}),
  };
}
