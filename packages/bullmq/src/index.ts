export type { BullmqRuntimeOptions } from './runtime-options.js';
export { BullmqRuntime, bullmqRuntime } from './bullmq-runtime.js';
export type { RedisConnection } from './redis-connection.js';
export type { WorkerOptions } from './worker-options.js';
export type { WorkerState } from './worker.js';
export { createWorker, PlugboardWorker } from './worker.js';
