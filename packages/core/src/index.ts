/**
 * Host-embeddable plugins with typed arguments, App Properties and background tasks: the plugin base classes,
 * the host, the task runtime and scheduler, and the in-memory store. `Type`, `Static`, `TObject` and `TSchema`
 * are re-exported from [TypeBox](https://github.com/sinclairzx81/typebox) so plugins need no second import.
 *
 * @module @plugboard/core
 */
export type { Static, TObject, TSchema } from 'typebox';
export { Type } from 'typebox';
export type { Clock } from './clock.js';
export { systemClock } from './clock.js';
export type { DiscoveryNote, PluginDiscoveryOptions, PluginSource } from './discovery.js';
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
export type {
  AuthorizeHook,
  BootReport,
  BootReportFailure,
  BootReportPlugin,
  ExecuteOptions,
  ExecuteResult,
  HostOptions,
  HostState,
  StopOptions,
} from './host.js';
export { createHost, Host } from './host.js';
export { createTaskId } from './ids.js';
export type { InProcessRuntimeOptions } from './in-process-runtime.js';
export { InProcessRuntime, inProcessRuntime } from './in-process-runtime.js';
export type { MemoryStoreOptions } from './memory-store.js';
export { MemoryTaskStore, memoryStore } from './memory-store.js';
export type {
  ActionPluginConstructor,
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
export type { PluginReload, PluginReloadProblem } from './plugin-reloader.js';
export type { WatchOptions } from './plugin-watcher.js';
export type { PropertySourceOptions } from './properties.js';
export { propertyEnvName } from './properties.js';
export type { PluginInfo, PluginStatus, PluginTimings } from './registry.js';
export { PluginRegistry } from './registry.js';
export type {
  CancelOptions,
  InstantiatedTask,
  RuntimeEnvironment,
  RuntimeScheduleRequest,
  RuntimeScheduleState,
  RuntimeSchedules,
  RuntimeStopOptions,
  TaskRuntime,
} from './runtime.js';
export type { EmptyObjectSchema, ObjectValidator } from './schema.js';
export { compileObjectValidator, invalidArguments, sanitizeInput, toJsonSchema } from './schema.js';
export { SECRET_PLACEHOLDER } from './secrets.js';
export type {
  LogQuery,
  PluginCatalogueEntry,
  ScheduleRecord,
  TaskPage,
  TaskQuery,
  TaskStore,
} from './store.js';
export { decodeCursor, encodeCursor, pageLimit } from './store.js';
export type {
  LogLevel,
  PlugboardUser,
  RetryPolicy,
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
  isTask,
  isTaskClass,
  LOG_LEVEL_RANK,
  SYSTEM_USER,
  Task,
  TaskError,
  taskTypeName,
} from './task.js';
export type { AttemptOutcome } from './task-execution.js';
export { retryDelay, TaskExecution } from './task-execution.js';
export { PLUGBOARD_VERSION, satisfiesRange } from './version.js';
