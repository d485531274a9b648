import type { IdempotencyRecord } from '@plugboard/core/spi';
import type BetterSqlite3 from 'better-sqlite3';
import { type IdempotencyRow, idempotencyToRow, rowToIdempotency } from './rows.js';
import type { Statements } from './statements.js';

/** Claims between two deletions of expired keys. */
const EVICT_EVERY = 1024;

/**
 * The store's idempotency keys. A claim reads and writes the key in one immediate transaction, which holds the
 * database's write lock: two processes on the same file cannot both claim a key.
 */
export class SqliteIdempotencyKeys {
  #claimsSinceEviction = 0;

  claim(
    db: BetterSqlite3.Database,
    st: Statements,
    record: IdempotencyRecord,
    reclaimPendingBefore: number,
  ): IdempotencyRecord {
    const claim = db.transaction((): IdempotencyRecord => {
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
    });
    return claim.immediate();
  }

  settle(st: Statements, key: string, claimId: string, taskIds: readonly string[] | null): void {
    if (taskIds === null) st.releaseIdempotencyKey.run(key, claimId);
    else st.settleIdempotencyKey.run(JSON.stringify(taskIds), key, claimId);
  }
}
