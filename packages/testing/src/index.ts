export { FakeClock } from './fake-clock.js';
export type {
  PluginRun,
  RunPluginOptions,
  RunTaskOptions,
  TaskRun,
  TestHostOptions,
} from './harness.js';
export { contextKindFrom, createTestHost, runPlugin, runTask } from './harness.js';
