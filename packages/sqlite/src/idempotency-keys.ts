import type { IdempotencyRecord } from '@plugboard/core/spi';
import { type IdempotencyRow, idempotencyToRow, rowToIdempotency } from './rows.js';
import type { Statements } from './statements.js';

/** Claims between two deletions of expired keys. */
const EVICT_EVERY = 1024;

/**
 * The store's idempotency keys. A claim runs as one write of the store's write batch, whose transaction is
 * immediate: it holds the database's write lock from its first read, so two processes on the same file cannot
 * both claim a key, and a claim costs no commit of its own.
 */
export class SqliteIdempotencyKeys {
  #claimsSinceEviction = 0;

  /** Claims `record` as {@link TaskStore.claimIdempotencyKey} says; runs inside a write transaction. */
  claim(st: Statements, record: IdempotencyRecord, reclaimPendingBefore: number): IdempotencyRecord {
    if (++this.#claimsSinceEviction >= EVICT_EVERY) {
      this.#claimsSinceEviction = 0;
      st.evictExpiredIdempotencyKeys.run(record.createdAt);
    }
    const row = st.getIdempotencyKey.get(record.key) as IdempotencyRow | undefined;
    if (row && row.expires_at > record.createdAt) {
      if (row.task_ids !== null || row.created_at >= reclaimPendingBefore) return rowToIdempotency(row);
    }
    st.putIdempotencyKey.run(idempotencyToRow(record));
    return record;
  }

  settle(st: Statements, key: string, claimId: string, taskIds: readonly string[] | null): void {
    if (taskIds === null) st.releaseIdempotencyKey.run(key, claimId);
    else st.settleIdempotencyKey.run(JSON.stringify(taskIds), key, claimId);
  }
}
