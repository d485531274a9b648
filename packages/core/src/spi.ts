/**
 * The service-provider interface: what people who write a task runtime or a task store build on. A runtime runs
 * each attempt through {@link TaskExecution} and applies the rules of a task's life ({@link nextAttempt},
 * {@link endPatch}, {@link recoverCrashed}, {@link retryDelay}) so tasks behave the same wherever they run; a
 * store implements {@link TaskStore} with the cursor helpers. Both prove themselves with the contract suites of
 * `@plugboard/testing`. Plugin and host authors need only `@plugboard/core`.
 *
 * @module @plugboard/core/spi
 */
export { describeValue } from './errors.js';
export { createTaskId } from './ids.js';
export type { AttemptEvent, AttemptSpan, AttemptTelemetry } from './observability/task-tracing.js';
export type { TraceCarrier } from './observability/trace-context.js';
export { captureTraceCarrier, runWithTraceCarrier } from './observability/trace-context.js';
export type { NumberBounds } from './option-checks.js';
export {
  booleanOption,
  checkOptionsObject,
  functionOption,
  integerOption,
  invalidOption,
  numberOption,
  oneOfOption,
} from './option-checks.js';
export type { ChildByType, ChildRequest } from './runtime/child-tasks.js';
export { inheritedFields, orphanPatch, PARENT_STOPPED_STATES } from './runtime/child-tasks.js';
export type { PluginAdmissionOptions } from './runtime/plugin-admission.js';
export { PluginAdmission } from './runtime/plugin-admission.js';
export { waitingForPluginSlot } from './runtime/plugin-limits.js';
export type {
  InstantiatedTask,
  RuntimeEnvironment,
  RuntimeScheduleRequest,
  RuntimeScheduleState,
  RuntimeSchedules,
  RuntimeStopOptions,
  TaskRuntime,
} from './runtime/runtime.js';
export type { AttemptOutcome } from './runtime/task-execution.js';
export { TaskExecution } from './runtime/task-execution.js';
export type { CrashFacts, CrashVerdict } from './runtime/task-life.js';
export { endPatch, nextAttempt, nextAttemptPatch, recoverCrashed, retryDelay } from './runtime/task-life.js';
export { nextCronRun } from './schedules/cron.js';
export type { IdempotencyRecord } from './store/idempotency-record.js';
export type {
  LogQuery,
  PluginCatalogueEntry,
  ScheduleRecord,
  SharedTaskStore,
  StoreLink,
  TaskCounts,
  TaskPage,
  TaskQuery,
  TaskStore,
} from './store/store.js';
export { decodeCursor, emptyCounts, encodeCursor, pageLimit } from './store/store.js';
