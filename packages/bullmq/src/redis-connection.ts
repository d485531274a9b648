import type { ConnectionOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';

/** The Redis connection option: ioredis options, or an ioredis client to copy settings from. */
export type RedisConnection = ConnectionOptions;

/**
 * Opens a dedicated connection for a blocking read or a subscription, which cannot share a client with other
 * commands. A client passed in is duplicated, never taken over.
 */
export function dedicatedConnection(connection: RedisConnection): Redis {
  const candidate = connection as { duplicate?: (options?: RedisOptions) => Redis };
  if (typeof candidate.duplicate === 'function') {
    return candidate.duplicate({ maxRetriesPerRequest: null });
  }
  return new Redis({ ...(connection as RedisOptions), maxRetriesPerRequest: null });
}
