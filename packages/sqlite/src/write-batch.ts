import type BetterSqlite3 from 'better-sqlite3';

/** Keeps in-memory bookkeeping in step with the database when a transaction rolls back. */
export interface WriteBatchHooks {
  /** Called before each transaction; the function it returns undoes what the transaction's writes did in memory. */
  begin(): () => void;
  /** Called inside each transaction after its writes ran, before it commits (work done once per commit). */
  beforeCommit?(): void;
}

interface PendingWrite {
  readonly apply: () => void;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Collects the writes of one turn of the event loop and commits them in one transaction, so a runtime writing
 * progress and log lines for many tasks costs one commit per turn instead of one per write. Each write's promise
 * settles once its transaction committed (or failed), so an awaited write is on disk when the await returns.
 */
export class WriteBatch {
  readonly #db: BetterSqlite3.Database;
  readonly #hooks: WriteBatchHooks | undefined;
  #pending: PendingWrite[] = [];
  #scheduled: ReturnType<typeof setImmediate> | undefined;

  constructor(db: BetterSqlite3.Database, hooks?: WriteBatchHooks) {
    this.#db = db;
    this.#hooks = hooks;
  }

  /** Queues a write; `apply` runs inside the batch's transaction and may read what earlier writes wrote. */
  add(apply: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ apply, resolve, reject });
      this.#scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** How many writes wait for the next commit. */
  get size(): number {
    return this.#pending.length;
  }

  /** Commits every queued write now. Never throws: a failed write rejects its own promise. */
  flush(): void {
    if (this.#scheduled) {
      clearImmediate(this.#scheduled);
      this.#scheduled = undefined;
    }
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    try {
      this.#transaction(() => {
        for (const write of batch) write.apply();
      });
    } catch {
      // One write failed and the whole transaction rolled back: commit the writes one by one, so only the
      // failing one is lost and its caller learns why.
      for (const write of batch) this.#commitAlone(write);
      return;
    }
    for (const write of batch) write.resolve();
  }

  #commitAlone(write: PendingWrite): void {
    try {
      this.#transaction(write.apply);
    } catch (error) {
      write.reject(error);
      return;
    }
    write.resolve();
  }

  #transaction(body: () => void): void {
    const undo = this.#hooks?.begin();
    try {
      // IMMEDIATE takes the write lock first, waiting up to the busy timeout for another connection to let go. A
      // deferred transaction would read first and then could not wait: SQLite refuses it at once (SQLITE_BUSY).
      const beforeCommit = this.#hooks?.beforeCommit;
      this.#db
        .transaction(() => {
          body();
          beforeCommit?.();
        })
        .immediate();
    } catch (error) {
      undo?.();
      throw error;
    }
  }
}
