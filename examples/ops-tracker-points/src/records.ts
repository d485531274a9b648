/** The kinds of operational event the tracker records. */
export const EVENT_TYPES = [
  'deploy',
  'change',
  'incident',
  'alert',
  'access',
  'maintenance',
  'note',
] as const;

/** One of {@link EVENT_TYPES}. */
export type EventType = (typeof EVENT_TYPES)[number];

/** One recorded operational event. */
export interface OpsEvent {
  readonly id: number;
  /** When it happened: ISO 8601 in UTC, e.g. `2025-06-01T14:05:00.000Z`. */
  readonly occurredAt: string;
  readonly type: EventType;
  /** The system or host it concerns. */
  readonly source: string;
  /** Who performed or recorded it. */
  readonly operator: string;
  /** What happened, as people typed it: it may hold commas, quotes and line breaks. */
  readonly summary: string;
}

/**
 * A tracked credential. The tracker never stores the secret: only a keyed fingerprint, equal for equal secrets,
 * so reports can find reuse without seeing a secret.
 */
export interface TrackedCredential {
  readonly id: number;
  /** The system the credential opens, e.g. `vpn` or `billing-db`. */
  readonly system: string;
  readonly account: string;
  /** The person or team responsible for rotating it. */
  readonly owner: string;
  /**
   * HMAC-SHA-256 of the secret under the tracker's own key, in hex. Compare it; never print it: with the key, a
   * guessed secret can be checked against it.
   */
  readonly secretFingerprint: string;
  /** When it was recorded: ISO 8601 in UTC. */
  readonly createdAt: string;
  /** The day it expires (`YYYY-MM-DD`, UTC), or `null` when it does not expire. */
  readonly expiresOn: string | null;
}
