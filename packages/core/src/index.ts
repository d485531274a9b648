/**
 * Host-embeddable plugins with typed arguments, App Properties and background tasks: the plugin base classes,
 * the host, the task runtime and scheduler, and the in-memory store. `Type`, `Static`, `TObject` and `TSchema`
 * are re-exported from [TypeBox](https://github.com/sinclairzx81/typebox) so plugins need no second import. Who
 * writes a task runtime or a task store builds on `@plugboard/core/spi`.
 *
 * @module @plugboard/core
 */
export type { Static, TObject, TSchema } from 'typebox';
export { Type } from 'typebox';
export type { Clock } from './clock.js';
export { systemClock } from './clock.js';
export type { ErrorCatalogueEntry, FieldError, PlugboardErrorCode, PlugboardErrorOptions } from './errors.js';
export { describeValue, errorCatalogue, isPlugboardError, PlugboardError } from './errors.js';
export type {
  HostEventName,
  HostEvents,
  PluginStatusEvent,
  ScheduleEvent,
  TaskLogEvent,
  TaskProgressEvent,
} from './events.js';
export type { BootReport, BootReportFailure, BootReportPlugin } from './host/boot-report.js';
export { createHost, Host } from './host/host.js';
export type {
  ExecuteOptions,
  ExecuteResult,
  HostOptions,
  HostState,
  StopOptions,
} from './host/host-options.js';
export type { HostPlugins } from './host/host-plugins.js';
export type { HostPoints } from './host/host-points.js';
export type { HostSchedules } from './host/host-schedules.js';
export type { HostTasks, TaskCancelOptions } from './host/host-tasks.js';
export type { HostLogger } from './observability/host-logger.js';
export type { OpenTelemetryOptions } from './observability/telemetry-options.js';
export type {
  ActionPluginConstructor,
  BackgroundScheduleOptions,
  BackgroundTaskOptions,
  BackgroundTaskPluginConstructor,
  BackgroundTaskPluginDefinition,
  ContextKind,
  ContextPluginConstructor,
  ExecuteContext,
  PluginClass,
  PluginClassStatics,
  PluginDefinition,
  PluginKind,
  PluginMetadata,
  PluginPoint,
  PointPluginConstructor,
  ReadinessResult,
  TaskList,
} from './plugin.js';
export {
  ActionPlugin,
  ActionPluginBase,
  BackgroundTaskPlugin,
  BackgroundTaskPluginBase,
  ContextPlugin,
  ContextPluginBase,
  defineContextKind,
  definePluginPoint,
  isPluginClass,
  PluginBase,
  PointPlugin,
  PointPluginBase,
} from './plugin.js';
export type { AuthorizeHook } from './plugins/authorization.js';
export { holdsPermissions } from './plugins/authorization.js';
export type { DiscoveryNote, PluginDiscoveryOptions, PluginSource } from './plugins/discovery.js';
export type { PluginReload, PluginReloadProblem } from './plugins/plugin-reloader.js';
export type { WatchOptions } from './plugins/plugin-watcher.js';
export type { PropertySourceOptions } from './plugins/properties.js';
export type { PluginInfo, PluginStatus, PluginTimings } from './plugins/registry.js';
export type { InProcessRuntimeOptions } from './runtime/in-process-runtime.js';
export { InProcessRuntime, inProcessRuntime } from './runtime/in-process-runtime.js';
export type {
  HostIsolationOptions,
  IsolationMode,
  PluginAccess,
  PluginIsolation,
  ResolvedAccess,
} from './runtime/isolated/isolation-options.js';
export type { PluginLimits } from './runtime/plugin-limits.js';
export type { CancelOptions, TaskRuntime } from './runtime/runtime.js';
export { describeCadence, describeDuration } from './schedules/cadence.js';
export type { EmptyObjectSchema, ObjectValidator } from './schema.js';
export { compileObjectValidator, invalidArguments, toJsonSchema } from './schema.js';
export { SECRET_PLACEHOLDER } from './secrets.js';
export type { IdempotencyRecord } from './store/idempotency-record.js';
export type { MemoryStoreOptions } from './store/memory-store.js';
export { MemoryTaskStore, memoryStore } from './store/memory-store.js';
export type {
  LogQuery,
  ScheduleRecord,
  TaskCounts,
  TaskPage,
  TaskQuery,
  TaskStore,
} from './store/store.js';
export type {
  ChildTask,
  LogLevel,
  PlugboardUser,
  RetryPolicy,
  SpawnOptions,
  TaskClass,
  TaskContext,
  TaskErrorInfo,
  TaskLogEntry,
  TaskLogger,
  TaskRecord,
  TaskState,
} from './task.js';
export {
  ANONYMOUS_USER,
  FINAL_TASK_STATES,
  isFinalState,
  SYSTEM_USER,
  Task,
  TaskError,
} from './task.js';
export { PLUGBOARD_VERSION, satisfiesRange } from './version.js';
