import { PlugboardError } from '@plugboard/core';
import type { ConnectionOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';

/** The Redis connection option: ioredis options, or an ioredis client to copy settings from. */
export type RedisConnection = ConnectionOptions;

/**
 * Opens a dedicated connection for a blocking read or a subscription, which cannot share a client with other
 * commands. A client passed in is duplicated, never taken over. Connection errors go to `onError` (ioredis keeps
 * reconnecting meanwhile).
 */
export function dedicatedConnection(connection: RedisConnection, onError: (error: Error) => void): Redis {
  const candidate = connection as { duplicate?: (options?: RedisOptions) => Redis };
  const redis =
    typeof candidate.duplicate === 'function'
      ? candidate.duplicate({ maxRetriesPerRequest: null })
      : new Redis({ ...(connection as RedisOptions), maxRetriesPerRequest: null });
  redis.on('error', onError);
  return redis;
}

/**
 * Waits for the first round trips to Redis, at most `ms`: ioredis retries an unreachable server for ever, so
 * without a bound a host or worker would hang at start without saying why.
 */
export async function reachRedis(
  work: Promise<unknown>,
  options: { readonly ms: number; readonly queue: string; readonly lastError: () => Error | undefined },
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), options.ms);
  });
  let outcome: unknown;
  try {
    outcome = await Promise.race([work, timeout]);
  } catch (error) {
    throw unreachable(options.queue, error instanceof Error ? error.message : String(error), error);
  } finally {
    clearTimeout(timer);
  }
  if (outcome === 'timeout') {
    const last = options.lastError();
    throw unreachable(
      options.queue,
      `no answer within ${options.ms} ms (\`connectTimeoutMs\`)${last ? `; last error: ${last.message}` : ''}`,
      last,
    );
  }
}

function unreachable(queue: string, why: string, cause: unknown): PlugboardError {
  return new PlugboardError(
    'PLUGBOARD_STORE_UNAVAILABLE',
    `Redis for BullMQ queue \`${queue}\` could not be reached: ${why}. Check the \`connection\` option and that Redis is running.`,
    { cause },
  );
}

/**
 * Waits for `work` for at most `ms` and says whether it settled: closing a BullMQ client waits for Redis, which
 * may be gone, and stopping must not hang on it.
 */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const settled = await Promise.race([
    work.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]);
  clearTimeout(timer);
  return settled;
}

/**
 * Closes BullMQ clients gracefully (`closing`, already under way) for at most `ms`; when Redis does not answer by
 * then, drops their connections (`drop`), waiting at most `ms` again: BullMQ's disconnect waits for a connection's
 * end, which one retrying a lost server may never report, and the sockets are dropped either way.
 */
export async function closeOrDrop(
  closing: readonly Promise<unknown>[],
  drop: () => readonly Promise<unknown>[],
  ms: number,
): Promise<void> {
  if (await settlesWithin(Promise.allSettled(closing), ms)) return;
  await settlesWithin(Promise.allSettled(drop()), ms);
}
