import type { KeepJobs, Telemetry } from 'bullmq';
import type { RedisConnection } from './redis-connection.js';

/** Options of {@link bullmqRuntime}. */
export interface BullmqRuntimeOptions {
  /**
   * The Redis server: ioredis options or an ioredis client (duplicated for the connections that block).
   * @example { host: '127.0.0.1', port: 6379 }
   */
  readonly connection: RedisConnection;
  /**
   * The BullMQ queue tasks are added to; workers must name the same one.
   * @default 'plugboard'
   */
  readonly queue?: string;
  /**
   * BullMQ's key prefix.
   * @default 'bull'
   */
  readonly prefix?: string;
  /**
   * How many finished jobs BullMQ keeps (the task records stay in the host's store either way); kept jobs let an
   * API process that was down catch up on the outcome of tasks that finished meanwhile.
   * @default { age: 86400, count: 10000 }
   */
  readonly keepFinishedJobs?: KeepJobs;
  /**
   * How long start waits for Redis to answer before it fails with `PLUGBOARD_STORE_UNAVAILABLE` (later outages are
   * retried for as long as they last).
   * @default 10000
   */
  readonly connectTimeoutMs?: number;
  /**
   * How often `stats()` counts are refreshed from Redis, in milliseconds.
   * @default 1000
   */
  readonly statsIntervalMs?: number;
  /**
   * BullMQ's own telemetry (for example `new BullMQOtel('plugboard')` from `bullmq-otel`), passed to its queue: BullMQ
   * then traces its Redis operations beside Plugboard's own spans. Plugboard carries the trace context to the
   * worker either way.
   */
  readonly telemetry?: Telemetry;
}
