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
      const multi = this.#redis
        .multi()
        .xadd(this.#keys.updates, 'MAXLEN', '~', STREAM_MAX_LENGTH, '*', UPDATE_FIELD, JSON.stringify(batch));
      for (const update of batch) {
        if (update.type === 'logs') multi.hset(this.#keys.logSeq, update.id, update.entries.at(-1)?.seq ?? 0);
        if (update.type === 'finished') {
          const id = update.record.id;
          multi.hdel(this.#keys.logSeq, id).hdel(this.#keys.started, id).del(this.#keys.cancelFlag(id));
        }
      }
      const sent = multi.exec().then(() => undefined);
      this.#last = this.#last.then(
        () => sent,
        () => sent,
      );
    }
    return this.#last;
  }
}
