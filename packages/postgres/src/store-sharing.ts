import { randomUUID } from 'node:crypto';
import type { CancelOptions, HostEventName, LogQuery, TaskLogEntry, TaskRecord } from '@plugboard/core';
import {
  nextCronRun,
  type RuntimeScheduleRequest,
  type RuntimeScheduleState,
  type RuntimeSchedules,
  type SharedTaskStore,
  type StoreLink,
} from '@plugboard/core/spi';
import type pg from 'pg';
import { lockSpace } from './migrations.js';

/** The events relayed to the other processes: what a task and a schedule do, not this process's plugin states. */
const RELAYED = [
  'task:queued',
  'task:started',
  'task:progress',
  'task:log',
  'task:finished',
  'schedule:fired',
] as const satisfies readonly HostEventName[];
type RelayedName = (typeof RELAYED)[number];

/** A `schedule_timers` row. */
interface TimerRow {
  id: string;
  delay_seconds: number;
  repeat_seconds: number;
  cron: string | null;
  time_zone: string | null;
  next_run_at: number | null;
}
const TIMER_COLUMNS = 'id, delay_seconds, repeat_seconds, cron, time_zone, next_run_at';

/** A notification's payload stays below PostgreSQL's 8000-byte limit. */
const MAX_PAYLOAD = 7000;
/** The first wait before the listening connection is opened again; it doubles up to 5 s. */
const RECONNECT_MS = 100;

/** An event as sent: its payload, or (too long for a notification) what to read it back from the store with. */
type WireEvent =
  | readonly [name: RelayedName, payload: unknown]
  | readonly [name: RelayedName, ref: { readonly id: string; readonly seq?: number }, isRef: 1];

interface Message {
  /** The sending process. */
  readonly p: string;
  readonly ev?: readonly WireEvent[];
  readonly cancel?: { readonly id: string; readonly to: string; readonly waitForStop?: boolean };
}

/** What the sharing needs from its store. */
export interface StoreSharingContext {
  readonly schema: string;
  readonly pollIntervalMs: number;
  pool(): pg.Pool | undefined;
  write(step: (client: pg.PoolClient) => Promise<void>): Promise<void>;
  read<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>>;
  unavailable(what: string, error: unknown): Error;
  getTask(id: string): Promise<TaskRecord | undefined>;
  getLogs(id: string, query: LogQuery): Promise<readonly TaskLogEntry[]>;
}

/**
 * What makes several host processes on one schema behave as one host: each process holds a session advisory lock
 * while it lives (so the others know which unfinished tasks are still someone's), relays its task events to the
 * others with `NOTIFY` once the writes before them are committed (so a process reading on an event sees what it
 * announces), forwards a cancel to the process running the task, and keeps background schedules in the
 * database, where one process claims each due firing with `FOR UPDATE SKIP LOCKED`.
 */
export class StoreSharing implements SharedTaskStore {
  /** This process's id, written as the owner of the tasks it stores. */
  readonly processId = randomUUID();
  /** The first key of the store's advisory locks. */
  readonly lockSpace: number;
  readonly #ctx: StoreSharingContext;
  readonly #lockKey = 1 + Math.floor(Math.random() * 0x7ffffffe);
  readonly #channel: string;
  #client: pg.PoolClient | undefined;
  #open = false;
  #reconnectMs = RECONNECT_MS;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #link: StoreLink | undefined;
  #unsubscribe: (() => void) | undefined;
  /** Payloads this process emitted for another process: not sent back. */
  readonly #relayed = new WeakSet<object>();
  #outbox: WireEvent[] = [];
  /** Incoming notifications, handled one after the other so events keep their order. */
  #inbox: Promise<void> = Promise.resolve();
  readonly #armed = new Set<string>();
  #pollTimer: ReturnType<typeof setInterval> | undefined;
  #polling = false;
  /** Background schedules kept in the database, firing once across the processes. */
  readonly schedules: RuntimeSchedules;

  constructor(ctx: StoreSharingContext) {
    this.#ctx = ctx;
    this.lockSpace = lockSpace(ctx.schema);
    this.#channel = `plugboard_${ctx.schema}`.slice(0, 63);
    this.schedules = { arm: (request) => this.#arm(request) };
  }

  /** SQL listing the ids of the live processes; `$n` is {@link lockSpace}. */
  liveProcessesSql(n: number): string {
    return `SELECT p.id FROM ${this.#ctx.schema}.processes p JOIN pg_locks l
              ON l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
             AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
             AND l.classid::int8 = $${n} AND l.objid::int8 = p.lock_key`;
  }

  /** Takes the listening connection and registers the process; called by the store's `open()`. */
  async open(): Promise<void> {
    this.#open = true;
    await this.#listen();
  }

  /** Unregisters the process and lets the listening connection go; called by the store's `close()`. */
  async close(): Promise<void> {
    this.#open = false;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#link = undefined;
    this.#armed.clear();
    if (this.#pollTimer) clearInterval(this.#pollTimer);
    this.#pollTimer = undefined;
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    await this.#inbox;
    const client = this.#client;
    this.#client = undefined;
    if (!client) return;
    try {
      await client.query(`DELETE FROM ${this.#ctx.schema}.processes WHERE id = $1`, [this.processId]);
    } catch {
      // The row of a process that is gone is removed by the next process that starts.
    }
    // Ending the connection releases its advisory lock and its LISTEN; it never returns to the pool.
    client.release(true);
  }

  async connect(link: StoreLink): Promise<void> {
    this.#unsubscribe?.();
    this.#link = link;
    const listeners = (link.relayEvents ? RELAYED : []).map((name) => {
      const listener = (payload: unknown) => this.#send(name, payload);
      link.events.on(name, listener as never);
      return () => link.events.off(name, listener as never);
    });
    this.#unsubscribe = () => {
      for (const off of listeners) off();
    };
    this.#pollTimer ??= setInterval(() => void this.#poll(), this.#ctx.pollIntervalMs);
    this.#pollTimer.unref?.();
  }

  async cancel(id: string, options?: CancelOptions): Promise<boolean> {
    const { rows } = await this.#ctx.read<{ owner: string }>(
      `SELECT t.owner FROM ${this.#ctx.schema}.tasks t
       WHERE t.id = $1 AND t.owner <> $3 AND t.owner IN (${this.liveProcessesSql(2)})`,
      [id, this.lockSpace, this.processId],
    );
    const owner = rows[0]?.owner;
    if (!owner) return false;
    const message: Message = {
      p: this.processId,
      cancel: { id, to: owner, ...(options?.waitForStop ? { waitForStop: true } : {}) },
    };
    await this.#ctx.write(async (client) => {
      await client.query('SELECT pg_notify($1, $2)', [this.#channel, JSON.stringify(message)]);
    });
    return true;
  }

  /** Sends the events queued since the last commit, once what they announce is committed. */
  async afterCommit(client: pg.PoolClient): Promise<void> {
    if (this.#outbox.length === 0) return;
    const events = this.#outbox;
    this.#outbox = [];
    const payloads: string[] = [];
    let chunk: string[] = [];
    let size = 0;
    for (const event of events) {
      const text = JSON.stringify(event);
      if (size + text.length > MAX_PAYLOAD && chunk.length > 0) {
        payloads.push(this.#message(chunk));
        chunk = [];
        size = 0;
      }
      chunk.push(text);
      size += text.length + 1;
    }
    if (chunk.length > 0) payloads.push(this.#message(chunk));
    await client.query('SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload', [
      this.#channel,
      payloads,
    ]);
  }

  #message(events: readonly string[]): string {
    return `{"p":${JSON.stringify(this.processId)},"ev":[${events.join(',')}]}`;
  }

  /** Queues a local event for the other processes, with the next write (or a commit of its own). */
  #send(name: RelayedName, payload: unknown): void {
    if (!this.#open || (typeof payload === 'object' && payload !== null && this.#relayed.has(payload)))
      return;
    let event: WireEvent = [name, payload];
    if (JSON.stringify(event).length > MAX_PAYLOAD) {
      const p = payload as { id: string; entry?: TaskLogEntry };
      event = [name, p.entry ? { id: p.id, seq: p.entry.seq } : { id: p.id }, 1];
    }
    const first = this.#outbox.length === 0;
    this.#outbox.push(event);
    // Events go out with the writes of this turn; without any, an empty write commits them.
    if (first) this.#ctx.write(async () => {}).catch(() => {});
  }

  async #listen(): Promise<void> {
    const pool = this.#ctx.pool();
    if (!pool || !this.#open) return;
    const client = await pool.connect();
    try {
      const s = this.#ctx.schema;
      await client.query('SELECT pg_advisory_lock($1, $2)', [this.lockSpace, this.#lockKey]);
      // Rows of processes that are gone make way (their lock keys may come again).
      await client.query(
        `DELETE FROM ${s}.processes WHERE id NOT IN (${this.liveProcessesSql(1)}) OR lock_key = $2`,
        [this.lockSpace, this.#lockKey],
      );
      await client.query(
        `INSERT INTO ${s}.processes (id, lock_key, started_at) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET lock_key = EXCLUDED.lock_key`,
        [this.processId, this.#lockKey, Date.now()],
      );
      await client.query(`LISTEN ${this.#channel}`);
    } catch (error) {
      client.release(error instanceof Error ? error : true);
      throw error;
    }
    client.on('notification', (note) => {
      if (note.channel !== this.#channel || !note.payload) return;
      const payload = note.payload;
      this.#inbox = this.#inbox.then(() => this.#receive(payload)).catch((error) => this.#report(error));
    });
    const lost = (error?: unknown) => {
      if (this.#client !== client) return;
      this.#client = undefined;
      client.release(error instanceof Error ? error : true);
      this.#reconnect();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    this.#client = client;
    this.#reconnectMs = RECONNECT_MS;
  }

  /** The listening connection was lost (the database restarted): take a new one once the database answers. */
  #reconnect(): void {
    if (!this.#open || this.#reconnectTimer) return;
    const wait = this.#reconnectMs;
    this.#reconnectMs = Math.min(wait * 2, 5000);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.#listen().catch(() => this.#reconnect());
    }, wait);
    this.#reconnectTimer.unref?.();
  }

  async #receive(text: string): Promise<void> {
    const message = JSON.parse(text) as Message;
    const link = this.#link;
    if (message.p === this.processId || !link) return;
    if (message.cancel) {
      if (message.cancel.to === this.processId) await this.#cancelHere(link, message.cancel);
      return;
    }
    if (!link.relayEvents) return;
    for (const event of message.ev ?? []) {
      const payload = event.length === 3 ? await this.#readBack(event[0], event[1]) : event[1];
      if (payload === undefined || payload === null || typeof payload !== 'object') continue;
      this.#relayed.add(payload);
      try {
        (link.events.emit as (name: string, payload: unknown) => boolean)(event[0], payload);
      } catch (error) {
        this.#report(error);
      }
    }
  }

  /** An event too long for a notification, read back from the store. */
  async #readBack(name: RelayedName, ref: { id: string; seq?: number }): Promise<unknown> {
    const record = await this.#ctx.getTask(ref.id);
    if (!record) return undefined;
    if (name === 'task:log' && ref.seq !== undefined) {
      const [entry] = await this.#ctx.getLogs(ref.id, { after: ref.seq - 1, limit: 1 });
      return entry && { id: record.id, pluginId: record.pluginId, userId: record.user.id, entry };
    }
    if (name === 'task:progress') {
      return {
        id: record.id,
        pluginId: record.pluginId,
        userId: record.user.id,
        progress: record.progress,
        message: record.progressMessage,
        statusText: record.statusText,
      };
    }
    return record;
  }

  async #cancelHere(link: StoreLink, request: NonNullable<Message['cancel']>): Promise<void> {
    const options = request.waitForStop ? { waitForStop: true } : undefined;
    await link.cancel(request.id, options);
  }

  async #arm(request: RuntimeScheduleRequest): Promise<RuntimeScheduleState> {
    const s = this.#ctx.schema;
    const cron = request.cron ?? null;
    let state: RuntimeScheduleState | undefined;
    await this.#ctx.write(async (client) => {
      const { rows } = await client.query<TimerRow>(
        `INSERT INTO ${s}.schedule_timers AS t (id, delay_seconds, repeat_seconds, cron, time_zone, next_run_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET delay_seconds = EXCLUDED.delay_seconds,
           repeat_seconds = EXCLUDED.repeat_seconds, cron = EXCLUDED.cron, time_zone = EXCLUDED.time_zone,
           next_run_at = EXCLUDED.next_run_at
         WHERE $7::boolean
         RETURNING ${TIMER_COLUMNS}`,
        [
          request.id,
          request.delaySeconds,
          request.repeatSeconds,
          cron,
          cron === null ? null : (request.timeZone ?? 'UTC'),
          request.firstRunAt,
          request.replaceExisting,
        ],
      );
      const row =
        rows[0] ??
        (
          await client.query<TimerRow>(`SELECT ${TIMER_COLUMNS} FROM ${s}.schedule_timers WHERE id = $1`, [
            request.id,
          ])
        ).rows[0]!;
      state = {
        delaySeconds: row.delay_seconds,
        repeatSeconds: row.repeat_seconds,
        ...(row.cron === null ? {} : { cron: row.cron, timeZone: row.time_zone ?? 'UTC' }),
        nextRunAt: row.next_run_at === null ? null : Number(row.next_run_at),
      };
    });
    this.#armed.add(request.id);
    return state!;
  }

  /** Claims the due firings of the schedules this process armed, moves them on, and fires them here. */
  async #poll(): Promise<void> {
    const link = this.#link;
    if (this.#polling || !link || this.#armed.size === 0) return;
    this.#polling = true;
    const due: { id: string; dueAt: number }[] = [];
    try {
      const s = this.#ctx.schema;
      await this.#ctx.write(async (client) => {
        // A batch that failed runs its writes again one by one: the claims start over.
        due.length = 0;
        // One statement claims the due firings and moves them on, so no other process can take them between.
        // A process that was down long skips the firings it missed: one firing now, the next on the cadence.
        const armed = [...this.#armed];
        const now = Date.now();
        const { rows } = await client.query<{ id: string; due_at: number }>(
          `UPDATE ${s}.schedule_timers t
           SET next_run_at = CASE WHEN t.repeat_seconds > 0
             THEN due.due_at + greatest(1, ceil(($2 - due.due_at + 1) / (t.repeat_seconds * 1000)))
               * t.repeat_seconds * 1000
             END
           FROM (SELECT id, next_run_at AS due_at FROM ${s}.schedule_timers
                 WHERE id = ANY($1::text[]) AND next_run_at <= $2 AND cron IS NULL FOR UPDATE SKIP LOCKED) due
           WHERE t.id = due.id
           RETURNING t.id, due.due_at`,
          [armed, now],
        );
        for (const row of rows) due.push({ id: row.id, dueAt: Number(row.due_at) });
        // A cron schedule's next time is computed here; the UPDATE moves it on only while it still holds the due
        // time read, so of two processes reading the same firing, one claims it.
        const cron = await client.query<TimerRow>(
          `SELECT ${TIMER_COLUMNS} FROM ${s}.schedule_timers
           WHERE id = ANY($1::text[]) AND next_run_at <= $2 AND cron IS NOT NULL FOR UPDATE SKIP LOCKED`,
          [armed, now],
        );
        for (const row of cron.rows) {
          const dueAt = Number(row.next_run_at);
          const next = nextCronRun(row.cron!, row.time_zone ?? 'UTC', Math.max(dueAt, now));
          const claimed = await client.query(
            `UPDATE ${s}.schedule_timers SET next_run_at = $3 WHERE id = $1 AND next_run_at = $2`,
            [row.id, dueAt, next],
          );
          if (claimed.rowCount) due.push({ id: row.id, dueAt });
        }
      });
    } catch (error) {
      this.#report(error);
    } finally {
      this.#polling = false;
    }
    for (const { id, dueAt } of due) {
      await link.fireSchedule(id, dueAt).catch((error) => this.#report(error));
    }
  }

  #report(error: unknown): void {
    this.#link?.reportError(error);
  }
}
