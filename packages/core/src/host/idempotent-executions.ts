import { createHash, randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { describeValue, PlugboardError } from '../errors.js';
import type { IdempotencyRecord } from '../store/idempotency-record.js';
import type { TaskStore } from '../store/store.js';
import type { PlugboardUser, TaskRecord } from '../task.js';
import type { ExecuteResult } from './host-options.js';

/** The longest idempotency key accepted, as HTTP APIs commonly cap the header. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/**
 * How long a claim whose execution never settled (its process crashed while `createTasks` ran) holds the key before
 * another execution may take it over.
 */
const ABANDONED_CLAIM_MS = 60_000;

/** What {@link IdempotentExecutions} works with. */
export interface IdempotentExecutionsOptions {
  readonly store: TaskStore;
  readonly clock: Clock;
  /** How long a key returns the first execution's tasks. */
  readonly windowMs: number;
}

/** One execution as an idempotency key identifies it. */
export interface IdempotentRequest {
  readonly key: string;
  readonly pluginId: string;
  readonly args: unknown;
  readonly context: string | undefined;
  readonly user: PlugboardUser;
}

/**
 * Executes with an idempotency key: the first execution claims the key in the store and records the tasks it
 * created; a repeat within the window gets those tasks back instead of creating new ones, in any process sharing
 * the store and after a restart. A repeat with other arguments is refused (`PLUGBOARD_IDEMPOTENCY_KEY_REUSED`), and
 * one that arrives while the first is still creating its tasks too (`PLUGBOARD_IDEMPOTENCY_KEY_IN_USE`).
 */
export class IdempotentExecutions {
  readonly #options: IdempotentExecutionsOptions;

  constructor(options: IdempotentExecutionsOptions) {
    this.#options = options;
  }

  /**
   * Runs `execute` unless an earlier execution holds the key; `authorizeReplay` is checked before tasks of an
   * earlier execution are handed back, as the user's permissions may have changed since.
   */
  async execute(
    request: IdempotentRequest,
    execute: () => Promise<ExecuteResult>,
    authorizeReplay: () => Promise<void>,
  ): Promise<ExecuteResult> {
    const { store, clock, windowMs } = this.#options;
    if (!store.claimIdempotencyKey || !store.settleIdempotencyKey) {
      throw new PlugboardError(
        'PLUGBOARD_INVALID_OPTION',
        `The \`${store.name}\` store keeps no idempotency keys (it has no claimIdempotencyKey and settleIdempotencyKey): execute without \`idempotencyKey\`, or use a store that keeps them.`,
      );
    }
    const now = clock.now();
    const claim: IdempotencyRecord = {
      key: scopedKey(request.user, request.key),
      claimId: randomUUID(),
      pluginId: request.pluginId,
      fingerprint: fingerprint(request),
      taskIds: null,
      createdAt: now,
      expiresAt: now + windowMs,
    };
    const held = await store.claimIdempotencyKey(claim, now - ABANDONED_CLAIM_MS);
    if (held.claimId === claim.claimId) {
      return this.#runClaimed(claim, execute);
    }
    if (held.fingerprint !== claim.fingerprint) {
      throw new PlugboardError(
        'PLUGBOARD_IDEMPOTENCY_KEY_REUSED',
        `Idempotency key \`${request.key}\` was used for another request (plugin \`${held.pluginId}\`, other arguments or context) in the last ${windowMs} ms; send a new key for a new request.`,
        { details: { key: request.key, pluginId: held.pluginId, claimedAt: held.createdAt } },
      );
    }
    if (held.taskIds === null) {
      throw new PlugboardError(
        'PLUGBOARD_IDEMPOTENCY_KEY_IN_USE',
        `A request with idempotency key \`${request.key}\` is still creating its tasks; retry in a moment to get them.`,
        { details: { key: request.key, claimedAt: held.createdAt } },
      );
    }
    await authorizeReplay();
    const tasks: TaskRecord[] = [];
    for (const id of held.taskIds) {
      const record = await store.getTask(id);
      if (record) tasks.push(record);
    }
    return { tasks, replayed: true };
  }

  async #runClaimed(claim: IdempotencyRecord, execute: () => Promise<ExecuteResult>): Promise<ExecuteResult> {
    const { store } = this.#options;
    let result: ExecuteResult;
    try {
      result = await execute();
    } catch (error) {
      // The execute was refused or failed: the key is freed, so the client's retry runs the request anew. Should
      // the store fail here too, the caller still gets the execute's own error; the claim is taken over once it
      // counts as abandoned.
      await store.settleIdempotencyKey!(claim.key, claim.claimId, null).catch(() => undefined);
      throw error;
    }
    await store.settleIdempotencyKey!(
      claim.key,
      claim.claimId,
      result.tasks.map((t) => t.id),
    );
    return result;
  }
}

/** Checks an `idempotencyKey` execute option. */
export function checkIdempotencyKey(key: unknown): void {
  if (key === undefined) return;
  // Printable ASCII without spaces at the ends, as an HTTP header value carries it.
  const usable =
    typeof key === 'string' &&
    key.length <= MAX_IDEMPOTENCY_KEY_LENGTH &&
    /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(key);
  if (!usable) {
    throw new PlugboardError(
      'PLUGBOARD_INVALID_IDEMPOTENCY_KEY',
      `Expected \`idempotencyKey\` to be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters (a UUID, say), got ${describeValue(key)}.`,
    );
  }
}

/** Keys are per user: one user's key never returns another user's tasks. */
function scopedKey(user: PlugboardUser, key: string): string {
  return `${user.id.length}:${user.id}:${key}`;
}

/** A digest of what makes two executions the same request: the plugin, the arguments and the context id. */
function fingerprint(request: IdempotentRequest): string {
  return createHash('sha256')
    .update(canonicalJson([request.pluginId, request.args ?? {}, request.context ?? null]))
    .digest('base64url');
}

/** JSON with object keys sorted, so `{a, b}` and `{b, a}` are the same arguments. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
