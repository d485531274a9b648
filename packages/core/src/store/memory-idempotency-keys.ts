import type { IdempotencyRecord } from './idempotency-record.js';

/** Claims between two sweeps of expired keys: the sweep reads every key, so it runs once per many claims. */
const SWEEP_EVERY = 1024;

/** The memory store's idempotency keys: claim and settle as {@link TaskStore.claimIdempotencyKey} describes. */
export class MemoryIdempotencyKeys {
  readonly #keys = new Map<string, IdempotencyRecord>();
  #claimsSinceSweep = 0;

  claim(record: IdempotencyRecord, reclaimPendingBefore: number): IdempotencyRecord {
    if (++this.#claimsSinceSweep >= SWEEP_EVERY) this.#sweep(record.createdAt);
    const held = this.#keys.get(record.key);
    if (held && held.expiresAt > record.createdAt) {
      if (held.taskIds !== null || held.createdAt >= reclaimPendingBefore) return held;
    }
    this.#keys.set(record.key, record);
    return record;
  }

  settle(key: string, claimId: string, taskIds: readonly string[] | null): void {
    const held = this.#keys.get(key);
    if (!held || held.claimId !== claimId) return;
    if (taskIds === null) this.#keys.delete(key);
    else this.#keys.set(key, { ...held, taskIds: [...taskIds] });
  }

  /** How many keys are held, expired or not. */
  get size(): number {
    return this.#keys.size;
  }

  #sweep(now: number): void {
    this.#claimsSinceSweep = 0;
    for (const [key, held] of this.#keys) if (held.expiresAt <= now) this.#keys.delete(key);
  }
}
