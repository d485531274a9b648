import type { PluginLimits } from '@plugboard/core';
import type { Redis } from 'ioredis';

/**
 * Takes a slot of a limited plugin for one task, atomically for every worker on the queue. KEYS[1]: a sorted set
 * of the task ids holding a slot, scored by when their lease ends; KEYS[2]: a sorted set of recent starts, scored
 * by start time. ARGV: task id, concurrency (0: none), interval cap (0: none), interval ms, lease ms. Returns
 * `{1, 0}` when the task may start, or `{0, ms}` with a hint of when to ask again. Redis's own clock is used, so
 * workers on machines with skewed clocks share one window. Leases of workers that died expire.
 */
const TAKE_SLOT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local id = ARGV[1]
local concurrency = tonumber(ARGV[2])
local cap = tonumber(ARGV[3])
local interval = tonumber(ARGV[4])
local lease = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if concurrency > 0 and not redis.call('ZSCORE', KEYS[1], id) and redis.call('ZCARD', KEYS[1]) >= concurrency then
  return {0, 0}
end
if cap > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - interval)
  if redis.call('ZCARD', KEYS[2]) >= cap then
    local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    return {0, tonumber(oldest[2]) + interval - now}
  end
  redis.call('ZADD', KEYS[2], now, id .. ':' .. now)
  redis.call('PEXPIRE', KEYS[2], interval)
end
if concurrency > 0 then
  redis.call('ZADD', KEYS[1], now + lease, id)
  redis.call('PEXPIRE', KEYS[1], lease)
end
return {1, 0}
`;

/** Extends a held slot's lease (only if it is still held). KEYS[1]: the holders; ARGV: task id, lease ms. */
const RENEW_SLOT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
end
return 1
`;

/** The shortest and longest wait before a held-back task asks for a slot again. */
const RETRY_MIN_MS = 25;
const RETRY_MAX_MS = 1000;

/** What {@link PluginSlots.take} answers. */
export type SlotAnswer =
  | { readonly granted: true; readonly release: () => Promise<void> }
  | { readonly granted: false; readonly retryInMs: number };

/**
 * Per-plugin limits across every worker of one queue: a Redis semaphore with leases for `concurrency` and a
 * sliding window of starts for `intervalCap`, each one Lua script. A worker asks before it starts a limited
 * plugin's task; a task refused waits as a delayed job (so it holds no worker slot and other plugins' tasks run)
 * and asks again after a backoff that grows with each refusal.
 */
export class PluginSlots {
  readonly #redis: Redis;
  readonly #base: string;
  readonly #leaseMs: number;

  /** `base` is the queue's Plugboard key prefix; a lease lasts `leaseMs` and is renewed at a third of it. */
  constructor(redis: Redis, base: string, leaseMs: number) {
    this.#redis = redis;
    this.#base = base;
    this.#leaseMs = leaseMs;
  }

  /** Takes a slot for task `id` of `pluginId`, or says how long to wait; `refusals` is how often it was refused. */
  async take(pluginId: string, id: string, limits: PluginLimits, refusals: number): Promise<SlotAnswer> {
    const holders = `${this.#base}:${pluginId}:running`;
    const starts = `${this.#base}:${pluginId}:starts`;
    const [granted, hint] = (await this.#redis.eval(
      TAKE_SLOT,
      2,
      holders,
      starts,
      id,
      limits.concurrency ?? 0,
      limits.intervalCap ?? 0,
      limits.intervalMs ?? 1000,
      this.#leaseMs,
    )) as [number, number];
    if (granted === 1) {
      if (limits.concurrency === undefined) return { granted: true, release: async () => {} };
      const renew = setInterval(
        () => void this.#redis.eval(RENEW_SLOT, 1, holders, id, this.#leaseMs).catch(() => {}),
        Math.max(50, Math.floor(this.#leaseMs / 3)),
      );
      renew.unref?.();
      return {
        granted: true,
        release: async () => {
          clearInterval(renew);
          await this.#redis.zrem(holders, id);
        },
      };
    }
    const backoff = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(refusals, 6));
    // Jitter spreads the tasks refused together, so they do not all ask again at the same moment.
    const jitter = Math.floor(Math.random() * backoff * 0.5);
    return { granted: false, retryInMs: Math.max(hint, backoff + jitter) };
  }
}
