import type { HostOptions } from '@plugboard/core';
import type { Telemetry } from 'bullmq';
import type { RedisConnection } from './redis-connection.js';

/** Options of {@link createWorker}. */
export interface WorkerOptions
  extends Pick<
    HostOptions,
    | 'plugins'
    | 'properties'
    | 'propertiesFile'
    | 'env'
    | 'envPrefix'
    | 'argv'
    | 'cwd'
    | 'readinessTimeoutMs'
    | 'isolation'
    | 'limits'
    | 'logger'
    | 'logTaskLines'
    | 'openTelemetry'
  > {
  /**
   * The Redis server: ioredis options or an ioredis client (duplicated for the connections that block).
   * @example { host: '127.0.0.1', port: 6379 }
   */
  readonly connection: RedisConnection;
  /**
   * The BullMQ queue to take tasks from; the API side's `bullmqRuntime({ queue })` names the same one.
   * @default 'plugboard'
   */
  readonly queue?: string;
  /**
   * BullMQ's key prefix.
   * @default 'bull'
   */
  readonly prefix?: string;
  /**
   * How long start waits for Redis to answer before it fails with `PLUGBOARD_STORE_UNAVAILABLE` (later outages are
   * retried for as long as they last).
   * @default 10000
   */
  readonly connectTimeoutMs?: number;
  /**
   * How many tasks this worker runs at once.
   * @default 4
   */
  readonly concurrency?: number;
  /**
   * How long a worker's hold on a running task lasts without renewal (it renews at half this): a worker that dies
   * is noticed after roughly this long plus `stalledIntervalMs`, and another worker takes its tasks over.
   * @default 30000
   */
  readonly lockDurationMs?: number;
  /**
   * How often workers look for tasks whose worker died.
   * @default 30000
   */
  readonly stalledIntervalMs?: number;
  /**
   * How long `stop()` lets running tasks finish by default before aborting them and recording them `interrupted`.
   * @default 10000
   */
  readonly shutdownTimeoutMs?: number;
  /**
   * BullMQ's own telemetry (for example `new BullMQOtel('plugboard')` from `bullmq-otel`), passed to its worker.
   * Plugboard's attempt spans are recorded through `openTelemetry` either way.
   */
  readonly telemetry?: Telemetry;
}
