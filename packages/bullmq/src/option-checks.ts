import { checkOptionsObject, invalidOption as invalid } from '@plugboard/core/spi';
import type { RedisConnection } from './redis-connection.js';
import { type PlugboardKeys, plugboardKeys } from './redis-keys.js';

/** Checks a BullMQ queue name: BullMQ keys are `<prefix>:<queue>:...`, so a colon would break them. */
export function queueNameOption(name: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^[\w.-]{1,100}$/.test(value)) {
    throw invalid(name, 'a name of letters, digits, `_`, `.` or `-` (1 to 100 characters)', value);
  }
  return value;
}

/** Checks the Redis connection option: ioredis options or an ioredis client. */
export function connectionOption(value: unknown): void {
  if (value === null || typeof value !== 'object') {
    throw invalid('connection', 'ioredis options (e.g. `{ host, port }`) or an ioredis client', value);
  }
}

/** Checks BullMQ's `telemetry` option: the object BullMQ calls (its `tracer`, `contextManager`, maybe `meter`). */
export function telemetryOption(value: unknown): void {
  if (value === undefined) return;
  const tracer = (value as { tracer?: unknown } | null)?.tracer;
  if (value === null || typeof value !== 'object' || tracer === null || typeof tracer !== 'object') {
    throw invalid(
      'telemetry',
      "BullMQ's Telemetry (an object with a `tracer`, e.g. `new BullMQOtel(name)`)",
      value,
    );
  }
}

/** Where a runtime or a worker finds its queue: the Redis connection, the queue name, its prefix and its keys. */
export interface QueueTarget {
  readonly connection: RedisConnection;
  readonly queueName: string;
  readonly prefix: string;
  readonly keys: PlugboardKeys;
}

/** Checks the options a runtime and a worker share: the options bag, `connection`, `queue` and `prefix`. */
export function queueTargetOptions(
  what: string,
  options: { readonly connection: RedisConnection; readonly queue?: string; readonly prefix?: string },
): QueueTarget {
  checkOptionsObject(what, options);
  connectionOption(options.connection);
  const queueName = queueNameOption('queue', options.queue, 'plugboard');
  const prefix = queueNameOption('prefix', options.prefix, 'bull');
  return { connection: options.connection, queueName, prefix, keys: plugboardKeys(prefix, queueName) };
}
