/**
 * A distributed task runtime on BullMQ and Redis: the API process queues tasks, worker processes run them, and
 * progress, logs and results come back to the host. Plugin code is the same as on the in-process runtime.
 *
 * @module @plugboard/bullmq
 */

export { BullmqRuntime, bullmqRuntime } from './bullmq-runtime.js';
export type { RedisConnection } from './redis-connection.js';
export type { BullmqRuntimeOptions } from './runtime-options.js';
export type { WorkerState } from './worker.js';
export { createWorker, PlugboardWorker } from './worker.js';
export type { WorkerOptions } from './worker-options.js';
