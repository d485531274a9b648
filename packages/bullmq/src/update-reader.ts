import type { Redis } from 'ioredis';
import type { PlugboardKeys } from './redis-keys.js';
import { type TaskUpdate, UPDATE_FIELD } from './task-update.js';

const BLOCK_MS = 1000;
const BATCH = 200;
const RETRY_MS = 500;
/**
 * How often a busy reader asks whether entries it had not read were trimmed (`XINFO STREAM` is costly next to the
 * reads). The check counts every entry ever added, so a loss is found by the next check, however late.
 */
const LOSS_CHECK_MS = 250;

type StreamReply = Array<[key: string, entries: Array<[id: string, fields: string[]]>]> | null;

/**
 * Reads the queue's update stream from the moment it starts, in order, on a dedicated connection, and hands each
 * update to `apply` one at a time so a task's updates are never applied out of order. The stream is trimmed from
 * its head: a reader that fell so far behind that entries it had not read are gone calls `resync` (between
 * updates, never during one), which brings the store up to date another way.
 */
export class UpdateReader {
  readonly #redis: Redis;
  readonly #keys: PlugboardKeys;
  readonly #apply: (update: TaskUpdate) => Promise<void>;
  readonly #reportError: (error: unknown) => void;
  readonly #resync: () => Promise<void>;
  #stopping = false;
  #loop: Promise<void> | undefined;
  /**
   * How many entries were ever added to the stream up to the last one read, when the server counts them (Redis 7):
   * more trimmed than that means unread entries were lost.
   */
  #position: number | undefined;

  constructor(
    redis: Redis,
    keys: PlugboardKeys,
    apply: (update: TaskUpdate) => Promise<void>,
    reportError: (error: unknown) => void,
    resync: () => Promise<void>,
  ) {
    this.#redis = redis;
    this.#keys = keys;
    this.#apply = apply;
    this.#reportError = reportError;
    this.#resync = resync;
  }

  /** Notes the stream's current end, then reads everything after it until {@link stop}. */
  async start(): Promise<void> {
    const info = await this.#info();
    this.#position = info ? numberField(info, 'entries-added') : 0;
    this.#loop = this.#read(info ? String(info.get('last-generated-id') ?? '0-0') : '0-0');
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
    let busy = false;
    let behind = false;
    let lastCheck = 0;
    while (!this.#stopping) {
      // Only a reader that had something to read can have fallen behind; an idle one was at the end. One that read
      // a full batch may be behind: it checks at once.
      const now = Date.now();
      const check = busy && (behind || now - lastCheck >= LOSS_CHECK_MS);
      if (check) lastCheck = now;
      if (check && (await this.#lostEntries())) {
        try {
          await this.#resync();
        } catch (error) {
          this.#reportError(error);
        }
      }
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
      busy = reply !== null && reply.length > 0;
      behind = (reply?.[0]?.[1].length ?? 0) >= BATCH;
      for (const [, entries] of reply ?? []) {
        for (const [id, fields] of entries) {
          cursor = id;
          if (this.#position !== undefined) this.#position++;
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

  /**
   * Whether entries this reader had not read yet were trimmed, from the server's count of entries ever added (Redis
   * 7; older servers do not count, and are never taken for lost). After a loss, counting restarts at the oldest
   * entry left.
   */
  async #lostEntries(): Promise<boolean> {
    if (this.#position === undefined) return false;
    try {
      const info = await this.#info();
      const added = info ? numberField(info, 'entries-added') : undefined;
      const length = info ? numberField(info, 'length') : undefined;
      if (added === undefined || length === undefined) return false;
      const trimmed = added - length;
      if (trimmed <= this.#position) return false;
      this.#position = trimmed;
      return true;
    } catch (error) {
      if (!this.#stopping) this.#reportError(error);
      return false;
    }
  }

  /** The stream's `XINFO STREAM` fields, or `undefined` when the stream does not exist yet. */
  async #info(): Promise<Map<string, unknown> | undefined> {
    let reply: unknown;
    try {
      reply = await this.#redis.call('XINFO', 'STREAM', this.#keys.updates);
    } catch (error) {
      if (/no such key/i.test((error as Error).message)) return undefined;
      throw error;
    }
    const fields = new Map<string, unknown>();
    const flat = Array.isArray(reply) ? reply : [];
    for (let i = 0; i + 1 < flat.length; i += 2) fields.set(String(flat[i]), flat[i + 1]);
    return fields;
  }
}

function numberField(info: Map<string, unknown>, name: string): number | undefined {
  const value = info.get(name);
  return typeof value === 'number' ? value : undefined;
}
