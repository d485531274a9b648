import type { Redis } from 'ioredis';
import type { PlugboardKeys } from './redis-keys.js';
import { type TaskUpdate, UPDATE_FIELD } from './task-update.js';

const BLOCK_MS = 1000;
const BATCH = 200;
const RETRY_MS = 500;

type StreamReply = Array<[key: string, entries: Array<[id: string, fields: string[]]>]> | null;

/**
 * Reads the queue's update stream from the moment it starts, in order, on a dedicated connection, and hands each
 * update to `apply` one at a time so a task's updates are never applied out of order.
 */
export class UpdateReader {
  readonly #redis: Redis;
  readonly #keys: PlugboardKeys;
  readonly #apply: (update: TaskUpdate) => Promise<void>;
  readonly #reportError: (error: unknown) => void;
  #stopping = false;
  #loop: Promise<void> | undefined;

  constructor(
    redis: Redis,
    keys: PlugboardKeys,
    apply: (update: TaskUpdate) => Promise<void>,
    reportError: (error: unknown) => void,
  ) {
    this.#redis = redis;
    this.#keys = keys;
    this.#apply = apply;
    this.#reportError = reportError;
  }

  /** Notes the stream's current end, then reads everything after it until {@link stop}. */
  async start(): Promise<void> {
    const last = await this.#redis.xrevrange(this.#keys.updates, '+', '-', 'COUNT', 1);
    this.#loop = this.#read(last[0]?.[0] ?? '0-0');
  }

  /** Stops reading; updates already read are applied first. */
  async stop(): Promise<void> {
    this.#stopping = true;
    // A blocking read would hold the connection for up to BLOCK_MS: drop it instead.
    this.#redis.disconnect();
    await this.#loop;
  }

  async #read(from: string): Promise<void> {
    let cursor = from;
    while (!this.#stopping) {
      let reply: StreamReply;
      try {
        reply = (await this.#redis.xread(
          'COUNT',
          BATCH,
          'BLOCK',
          BLOCK_MS,
          'STREAMS',
          this.#keys.updates,
          cursor,
        )) as StreamReply;
      } catch (error) {
        if (this.#stopping) return;
        this.#reportError(error);
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
        continue;
      }
      for (const [, entries] of reply ?? []) {
        for (const [id, fields] of entries) {
          cursor = id;
          const index = fields.indexOf(UPDATE_FIELD);
          if (index < 0) continue;
          let updates: TaskUpdate[];
          try {
            updates = JSON.parse(fields[index + 1] ?? '[]') as TaskUpdate[];
          } catch (error) {
            this.#reportError(error);
            continue;
          }
          for (const update of updates) {
            try {
              await this.#apply(update);
            } catch (error) {
              this.#reportError(error);
            }
          }
        }
      }
    }
  }
}
