import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PlugboardError } from '@plugboard/core';
import Database from 'better-sqlite3';
import type { EventType, OpsEvent, TrackedCredential } from 'plugboard-example-ops-tracker-points';

/** The schema version this code writes; a file with a newer one is refused untouched. */
const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY,
  occurred_at TEXT NOT NULL,
  type TEXT NOT NULL,
  source TEXT NOT NULL,
  operator TEXT NOT NULL,
  summary TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_time ON events (occurred_at, id);
CREATE TABLE IF NOT EXISTS credentials (
  id INTEGER PRIMARY KEY,
  system TEXT NOT NULL,
  account TEXT NOT NULL,
  owner TEXT NOT NULL,
  secret_fingerprint TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_on TEXT,
  UNIQUE (system, account)
);
CREATE TABLE IF NOT EXISTS summaries (
  id INTEGER PRIMARY KEY,
  written_at TEXT NOT NULL,
  summary TEXT NOT NULL
);
`;

/** An event to record. */
export interface NewEvent {
  readonly occurredAt: string;
  readonly type: EventType;
  readonly source: string;
  readonly operator: string;
  readonly summary: string;
}

/** A credential to record: the secret is turned into a fingerprint at once and never stored. */
export interface NewCredential {
  readonly system: string;
  readonly account: string;
  readonly owner: string;
  readonly secretFingerprint: string;
  readonly expiresOn: string | null;
}

/** Which events to read; days are `YYYY-MM-DD` (UTC) and inclusive. */
export interface EventQuery {
  readonly since?: string | null;
  readonly until?: string | null;
  readonly types?: readonly EventType[];
}

/** The tracker's state at one moment, as the background summary writes it. */
export interface TrackerSummary {
  readonly writtenAt: string;
  readonly events: {
    readonly total: number;
    /** Events of the 24 hours before `writtenAt`, by type. */
    readonly lastDayByType: Readonly<Record<string, number>>;
    readonly latest: Pick<OpsEvent, 'occurredAt' | 'type' | 'source'> | null;
  };
  readonly credentials: {
    readonly total: number;
    readonly expired: number;
    readonly expiringSoon: number;
    /** Credentials that share their secret with at least one other. */
    readonly sharingSecret: number;
    /** The window `expiringSoon` counts, in days. */
    readonly warnDays: number;
  };
}

interface EventRow {
  id: number;
  occurred_at: string;
  type: EventType;
  source: string;
  operator: string;
  summary: string;
}

interface CredentialRow {
  id: number;
  system: string;
  account: string;
  owner: string;
  secret_fingerprint: string;
  created_at: string;
  expires_on: string | null;
}

function nextDay(day: string): string {
  const date = new Date(`${day}T00:00:00.000Z`);
  date.setUTCDate(date.getUTCDate() + 1);
  return date.toISOString();
}

/**
 * The tracker's own data in one SQLite file: events, credentials (as fingerprints) and the summaries the
 * background task writes. Secrets are fingerprinted with a key kept in its own file beside the database.
 */
export class TrackerDatabase {
  readonly #db: Database.Database;
  readonly #key: Buffer;

  /** Opens (and creates when missing) `tracker.db` and `fingerprint.key` in `dataDir`. */
  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.#key = loadKey(join(dataDir, 'fingerprint.key'));
    const path = join(dataDir, 'tracker.db');
    try {
      this.#db = new Database(path);
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('busy_timeout = 5000');
    } catch (error) {
      throw new PlugboardError(
        'PLUGBOARD_STORE_UNAVAILABLE',
        `The tracker database ${path} could not be opened: ${(error as Error).message}.`,
        { cause: error },
      );
    }
    const version = this.#db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      this.#db.close();
      throw new PlugboardError(
        'PLUGBOARD_STORE_UNAVAILABLE',
        `The tracker database ${path} was written by a newer version of the tracker (schema ${version}); upgrade the tracker.`,
      );
    }
    this.#db.exec(SCHEMA);
    this.#db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }

  /** The fingerprint of a secret: HMAC-SHA-256 under the tracker's key, equal for equal secrets. */
  fingerprint(secret: string): string {
    return createHmac('sha256', this.#key).update(secret, 'utf8').digest('hex');
  }

  /** Records an event and returns it with its id. */
  addEvent(event: NewEvent): OpsEvent {
    const { lastInsertRowid } = this.#db
      .prepare(
        'INSERT INTO events (occurred_at, type, source, operator, summary) VALUES (@occurredAt, @type, @source, @operator, @summary)',
      )
      .run(event);
    return { id: Number(lastInsertRowid), ...event };
  }

  /** Records a credential; the same system and account again replaces the earlier one (a rotation). */
  addCredential(
    credential: NewCredential,
    now = new Date(),
  ): { credential: TrackedCredential; rotated: boolean } {
    return this.#db.transaction(() => {
      const existing = this.#db
        .prepare('SELECT id FROM credentials WHERE system = ? AND account = ?')
        .get(credential.system, credential.account);
      const row = this.#db
        .prepare(
          `INSERT INTO credentials (system, account, owner, secret_fingerprint, created_at, expires_on)
           VALUES (@system, @account, @owner, @secretFingerprint, @createdAt, @expiresOn)
           ON CONFLICT (system, account) DO UPDATE SET owner = excluded.owner,
             secret_fingerprint = excluded.secret_fingerprint, created_at = excluded.created_at,
             expires_on = excluded.expires_on
           RETURNING *`,
        )
        .get({ ...credential, createdAt: now.toISOString() }) as CredentialRow;
      return { credential: toCredential(row), rotated: existing !== undefined };
    })();
  }

  /** Events in time order (oldest first), filtered by day range and type. */
  listEvents(query: EventQuery = {}): OpsEvent[] {
    const where: string[] = [];
    const params: Record<string, string> = {};
    if (query.since) {
      where.push('occurred_at >= @since');
      params.since = `${query.since}T00:00:00.000Z`;
    }
    if (query.until) {
      where.push('occurred_at < @before');
      params.before = nextDay(query.until);
    }
    if (query.types && query.types.length > 0) {
      where.push(`type IN (${query.types.map((_, i) => `@type${i}`).join(', ')})`);
      query.types.forEach((type, i) => {
        params[`type${i}`] = type;
      });
    }
    const sql = `SELECT * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY occurred_at, id`;
    return (this.#db.prepare(sql).all(params) as EventRow[]).map((row) => ({
      id: row.id,
      occurredAt: row.occurred_at,
      type: row.type,
      source: row.source,
      operator: row.operator,
      summary: row.summary,
    }));
  }

  /** Every credential, ordered by system then account. */
  listCredentials(): TrackedCredential[] {
    const rows = this.#db
      .prepare('SELECT * FROM credentials ORDER BY system, account')
      .all() as CredentialRow[];
    return rows.map(toCredential);
  }

  /** Deletes every event and credential (summaries are history and stay). */
  clear(): void {
    this.#db.exec('DELETE FROM events; DELETE FROM credentials;');
  }

  /** Runs `work` in one transaction. */
  transaction<T>(work: () => T): T {
    return this.#db.transaction(work)();
  }

  /** Counts what the summary shows, as of `now`. */
  summarize(now: Date, warnDays: number): TrackerSummary {
    const dayAgo = new Date(now.getTime() - 86_400_000).toISOString();
    const byType = this.#db
      .prepare(
        'SELECT type, COUNT(*) AS n FROM events WHERE occurred_at > ? AND occurred_at <= ? GROUP BY type ORDER BY type',
      )
      .all(dayAgo, now.toISOString()) as Array<{ type: string; n: number }>;
    const latest = this.#db
      .prepare('SELECT occurred_at, type, source FROM events ORDER BY occurred_at DESC, id DESC LIMIT 1')
      .get() as Pick<EventRow, 'occurred_at' | 'type' | 'source'> | undefined;
    const today = now.toISOString().slice(0, 10);
    const horizon = new Date(Date.parse(`${today}T00:00:00.000Z`) + warnDays * 86_400_000)
      .toISOString()
      .slice(0, 10);
    const credentials = this.#db
      .prepare(
        `SELECT COUNT(*) AS total,
           COALESCE(SUM(expires_on < @today), 0) AS expired,
           COALESCE(SUM(expires_on >= @today AND expires_on <= @horizon), 0) AS soon,
           (SELECT COALESCE(SUM(n), 0) FROM (SELECT COUNT(*) AS n FROM credentials
              GROUP BY secret_fingerprint HAVING COUNT(*) > 1)) AS sharing
         FROM credentials`,
      )
      .get({ today, horizon }) as { total: number; expired: number; soon: number; sharing: number };
    return {
      writtenAt: now.toISOString(),
      events: {
        total: (this.#db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n,
        lastDayByType: Object.fromEntries(byType.map((row) => [row.type, row.n])),
        latest: latest ? { occurredAt: latest.occurred_at, type: latest.type, source: latest.source } : null,
      },
      credentials: {
        total: credentials.total,
        expired: credentials.expired,
        expiringSoon: credentials.soon,
        sharingSecret: credentials.sharing,
        warnDays,
      },
    };
  }

  /** Keeps a summary in the history table. */
  saveSummary(summary: TrackerSummary): void {
    this.#db
      .prepare('INSERT INTO summaries (written_at, summary) VALUES (?, ?)')
      .run(summary.writtenAt, JSON.stringify(summary));
  }

  /** The most recent summary, if one was written. */
  latestSummary(): TrackerSummary | undefined {
    const row = this.#db.prepare('SELECT summary FROM summaries ORDER BY id DESC LIMIT 1').get() as
      | { summary: string }
      | undefined;
    return row ? (JSON.parse(row.summary) as TrackerSummary) : undefined;
  }

  close(): void {
    this.#db.close();
  }
}

function toCredential(row: CredentialRow): TrackedCredential {
  return {
    id: row.id,
    system: row.system,
    account: row.account,
    owner: row.owner,
    secretFingerprint: row.secret_fingerprint,
    createdAt: row.created_at,
    expiresOn: row.expires_on,
  };
}

/** Reads the fingerprint key, creating it (readable by its owner only) on first use. */
function loadKey(path: string): Buffer {
  if (!existsSync(path)) {
    // Written aside and linked into place, so a process starting at the same moment never reads half a key.
    const draft = `${path}.${process.pid}.tmp`;
    writeFileSync(draft, randomBytes(32).toString('hex'), { mode: 0o600 });
    try {
      linkSync(draft, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      rmSync(draft, { force: true });
    }
  }
  const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'hex');
  if (key.length < 16) {
    throw new PlugboardError(
      'PLUGBOARD_STORE_UNAVAILABLE',
      `The fingerprint key ${path} is damaged; restore it from a backup (a new key makes existing fingerprints unmatchable).`,
    );
  }
  return key;
}
