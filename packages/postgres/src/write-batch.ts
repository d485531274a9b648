import type pg from 'pg';

/** One queued write: statements run on the batch's connection, inside its transaction. */
export type WriteStep = (client: pg.PoolClient) => Promise<void>;

/** What the batch runs after the writes of each commit. */
export interface WriteBatchHooks {
  /** Runs on the batch's connection once its writes are committed (retention, notifications). */
  afterCommit(client: pg.PoolClient): Promise<void>;
}

interface PendingWrite {
  readonly apply: WriteStep;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Collects the writes of one turn of the event loop and commits them in one transaction on one connection, so a
 * runtime writing progress and log lines for many tasks costs one commit per turn instead of one per write; a
 * lone write runs without BEGIN and COMMIT around it.
 * Batches commit one after the other, in the order their writes were made. Each write's promise settles once its
 * transaction committed (or failed), so an awaited write is in the database when the await returns.
 */
export class WriteBatch {
  readonly #pool: pg.Pool;
  readonly #hooks: WriteBatchHooks;
  #pending: PendingWrite[] = [];
  #scheduled: ReturnType<typeof setImmediate> | undefined;
  /** The commit in progress (and every one before it); a read waits for it. */
  #committing: Promise<void> = Promise.resolve();

  constructor(pool: pg.Pool, hooks: WriteBatchHooks) {
    this.#pool = pool;
    this.#hooks = hooks;
  }

  /** Queues a write for the next commit. */
  add(apply: WriteStep): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ apply, resolve, reject });
      this.#scheduled ??= setImmediate(() => void this.flush());
    });
  }

  /** How many writes wait for the next commit. */
  get size(): number {
    return this.#pending.length;
  }

  /**
   * Commits every queued write now, after the commits already under way; resolves once they are all settled.
   * Never rejects: a failed write rejects its own promise.
   */
  flush(): Promise<void> {
    if (this.#scheduled) {
      clearImmediate(this.#scheduled);
      this.#scheduled = undefined;
    }
    if (this.#pending.length === 0) return this.#committing;
    const batch = this.#pending;
    this.#pending = [];
    this.#committing = this.#committing.then(() => this.#commit(batch));
    return this.#committing;
  }

  async #commit(batch: readonly PendingWrite[]): Promise<void> {
    try {
      await this.#transaction(batch.map((w) => w.apply));
    } catch (error) {
      if (batch.length === 1 || isConnectionFault(error)) {
        // The database is out of reach: every write of the batch learns why (a task's end is written again by
        // its runtime once the store answers).
        for (const write of batch) write.reject(error);
        return;
      }
      // One write failed and the whole transaction rolled back: commit the writes one by one, so only the
      // failing one is lost and its caller learns why.
      for (const write of batch) await this.#commitAlone(write);
      return;
    }
    for (const write of batch) write.resolve();
  }

  async #commitAlone(write: PendingWrite): Promise<void> {
    try {
      await this.#transaction([write.apply]);
    } catch (error) {
      write.reject(error);
      return;
    }
    write.resolve();
  }

  async #transaction(steps: readonly WriteStep[]): Promise<void> {
    const client = await this.#pool.connect();
    // The server going away between two statements is reported by the next one; unheard, it would crash the host.
    const onError = () => {};
    client.on('error', onError);
    let broken: unknown;
    try {
      if (steps.length === 1) {
        // One write needs no transaction of its own: each step is one statement, or statements whose partial
        // effect is harmless (a log count advanced before its lines), which saves two round trips.
        await steps[0]!(client);
      } else {
        await client.query('BEGIN');
        try {
          for (const step of steps) await step(client);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch((rollback: unknown) => {
            broken = rollback;
          });
          throw error;
        }
      }
      await this.#hooks.afterCommit(client);
    } catch (error) {
      broken ??= isConnectionFault(error) ? error : undefined;
      throw error;
    } finally {
      client.off('error', onError);
      // A connection that failed mid-transaction is dropped, not handed back to the pool.
      client.release(broken instanceof Error ? broken : undefined);
    }
  }
}

/** Errors that say the connection or the server went away, rather than that one statement was refused. */
export function isConnectionFault(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    // Class 08: connection exception; 57P0x: the server is shutting down or restarting; 53300: too many clients.
    if (code.startsWith('08') || code.startsWith('57P') || code === '53300') return true;
    if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH'].includes(code))
      return true;
  }
  return /Connection terminated|connection timeout|Client has encountered a connection error|not queryable/i.test(
    error.message,
  );
}
