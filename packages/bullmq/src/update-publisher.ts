import type { Redis } from 'ioredis';
import type { PlugboardKeys } from './redis-keys.js';
import { STREAM_MAX_LENGTH, type TaskUpdate, UPDATE_FIELD } from './task-update.js';

/**
 * Publishes task updates on the queue's stream. Updates made in one turn of the event loop go out as one entry,
 * and entries go out in order on one connection, so readers see every task's updates in the order they were made.
 */
export class UpdatePublisher {
  readonly #redis: Redis;
  readonly #keys: PlugboardKeys;
  readonly #reportError: (error: unknown) => void;
  #buffer: TaskUpdate[] = [];
  #scheduled = false;
  #last: Promise<void> = Promise.resolve();

  constructor(redis: Redis, keys: PlugboardKeys, reportError: (error: unknown) => void) {
    this.#redis = redis;
    this.#keys = keys;
    this.#reportError = reportError;
  }

  /** Queues an update for the next flush. */
  publish(update: TaskUpdate): void {
    this.#buffer.push(update);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.flush().catch((error) => this.#reportError(error));
    });
  }

  /** Sends what is buffered; resolves once everything published so far is in Redis. */
  flush(): Promise<void> {
    this.#scheduled = false;
    const batch = this.#buffer;
    this.#buffer = [];
    if (batch.length > 0) {
      // One pipeline (no MULTI/EXEC: two commands fewer a flush): Redis runs the commands of one connection in
      // order, so the entry still lands before anything this worker sends after it, such as the job's completion.
      const pipeline = this.#redis
        .pipeline()
        .xadd(this.#keys.updates, 'MAXLEN', '~', STREAM_MAX_LENGTH, '*', UPDATE_FIELD, JSON.stringify(batch));
      for (const update of batch) {
        if (update.type === 'logs')
          pipeline.hset(this.#keys.logSeq, update.id, update.entries.at(-1)?.seq ?? 0);
        if (update.type === 'finished') {
          const id = 'record' in update ? update.record.id : update.id;
          const { logCount, state } = 'record' in update ? update.record : update.patch;
          pipeline.hdel(this.#keys.started, id);
          // Only what can have been written is cleared: a task that never logged has no log mark, and a cancel flag
          // outlives its task only when the cancel came too late to stop it (the flag then expires on its own).
          if (logCount === undefined || logCount > 0) pipeline.hdel(this.#keys.logSeq, id);
          if (state === undefined || state === 'cancelled') pipeline.del(this.#keys.cancelFlag(id));
        }
      }
      const sent = pipeline.exec().then((replies) => {
        const failed = replies?.find(([error]) => error)?.[0];
        if (failed) throw failed;
      });
      this.#last = this.#last.then(
        () => sent,
        () => sent,
      );
    }
    return this.#last;
  }
}
