/**
 * An idempotency key as a store keeps it: the execution that claimed it and the tasks that execution created, so
 * a repeat of the same request, from any process sharing the store and after a restart, gets those tasks back.
 */
export interface IdempotencyRecord {
  /** The key, scoped by the host to the executing user. */
  readonly key: string;
  /** A unique id of this claim: two processes claiming the same key in the same millisecond stay apart. */
  readonly claimId: string;
  /** The plugin the claiming execution ran. */
  readonly pluginId: string;
  /** A digest of the plugin id, arguments and context id of the claiming execution. */
  readonly fingerprint: string;
  /** The ids of the tasks it created; `null` while the claiming execution is still creating them. */
  readonly taskIds: readonly string[] | null;
  /** When the key was claimed (ms since epoch). */
  readonly createdAt: number;
  /** When the key may be used again for another request (ms since epoch). */
  readonly expiresAt: number;
}
