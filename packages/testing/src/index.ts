/**
 * A harness for plugin authors' own tests: run a plugin or one task on a real test host with an in-memory
 * store, and drive background schedules with a fake clock.
 *
 * @module @plugboard/testing
 */
export { FakeClock } from './fake-clock.js';
export type {
  PluginRun,
  RunPluginOptions,
  RunTaskOptions,
  TaskRun,
  TestHostOptions,
} from './harness.js';
export { contextKindFrom, createTestHost, runPlugin, runTask } from './harness.js';
