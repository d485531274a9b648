import type { EventEmitter } from 'eventemitter3';
import type { HostEvents } from '../events.js';
import type { PluginStatus } from '../plugins/registry.js';
import type { CancelOptions, RuntimeSchedules } from '../runtime/runtime.js';
import type { TaskLogEntry, TaskRecord, TaskState } from '../task.js';
import type { IdempotencyRecord } from './idempotency-record.js';

/** Filters and paging for `host.tasks.list`. Newest first. */
export interface TaskQuery {
  /** Only tasks of this user id. */
  readonly user?: string;
  /** Only tasks of this plugin id. */
  readonly plugin?: string;
  /** Only the children of this task (`ctx.spawn`). */
  readonly parent?: string;
  /** Only tasks in this state (or any of these states). */
  readonly state?: TaskState | readonly TaskState[];
  /**
   * Page size, 1 to 500.
   * @default 50
   */
  readonly limit?: number;
  /** The `nextCursor` of the previous page. */
  readonly cursor?: string;
}

/** How many tasks are in each state, for the filters of a {@link TaskQuery} (paging fields are ignored). */
export type TaskCounts = Readonly<Record<TaskState, number>>;

/** A count of zero for every task state. */
export function emptyCounts(): Record<TaskState, number> {
  return { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0, 'timed-out': 0, interrupted: 0 };
}

/** One page of tasks. */
export interface TaskPage {
  /** The tasks of this page, newest first. */
  readonly items: readonly TaskRecord[];
  /** Pass as `cursor` for the next page; `null` on the last page. */
  readonly nextCursor: string | null;
}

/** A background-task plugin's schedule. */
export interface ScheduleRecord {
  /** Stable id: the plugin id. */
  readonly id: string;
  /** The background-task plugin it runs. */
  readonly pluginId: string;
  /** Seconds after host start before the first run. */
  readonly delaySeconds: number;
  /** Seconds between runs; 0 runs once. */
  readonly repeatSeconds: number;
  /** The cron expression that fires it; `null` (or absent) for a delay and repeat schedule. */
  readonly cron?: string | null;
  /** The IANA time zone of `cron`; `null` (or absent) for a delay and repeat schedule. */
  readonly timeZone?: string | null;
  /** When the next run is due (ms since epoch); `null` when it will not run again. */
  readonly nextRunAt: number | null;
  /** When it last fired (ms since epoch); `null` before the first run. */
  readonly lastRunAt: number | null;
  /** The tasks the last run queued. */
  readonly lastTaskIds: readonly string[];
  /**
   * How the last run went: `queued` while its tasks run, then the final state of the last one to finish;
   * `failed` when `createTasks` threw, `succeeded` when it created no task. `null` before the first run.
   */
  readonly lastState: TaskState | null;
  /** How many times it fired. */
  readonly runs: number;
  /** When the schedule was first stored (ms since epoch). */
  readonly createdAt: number;
  /** When the schedule last changed (ms since epoch). */
  readonly updatedAt: number;
}

/** What the catalogue keeps about every plugin ever seen. */
export interface PluginCatalogueEntry {
  /** The plugin's id. */
  readonly id: string;
  /** Set by an administrator; a disabled plugin stays disabled across restarts. */
  readonly enabled: boolean;
  /** The status it had when last seen. */
  readonly lastStatus: PluginStatus | null;
  /** Why it was not operational when last seen; `null` when it was. */
  readonly lastReason: string | null;
  /** When a host first found it (ms since epoch). */
  readonly firstSeenAt: number;
  /** When a host last found it (ms since epoch). */
  readonly lastSeenAt: number;
}

/** Paging of a task's log. */
export interface LogQuery {
  /** Only lines with `seq` greater than this. */
  readonly after?: number;
  /**
   * At most this many lines.
   * @default 1000
   */
  readonly limit?: number;
}

/**
 * Where task records, logs, schedules and the plugin catalogue are kept. Every store passes the same shared
 * contract suite, so hosts can swap one for another.
 */
export interface TaskStore {
  /** A short name for reports, e.g. `memory` or `sqlite`. */
  readonly name: string;
  /** Opens connections and runs migrations; called by `host.start()`. */
  open(): Promise<void>;
  /** Flushes pending writes and releases resources; called by `host.stop()`. */
  close(): Promise<void>;

  /** Stores a new task record. */
  insertTask(record: TaskRecord): Promise<void>;
  /** Merges `patch` into the record; unknown ids are ignored. */
  updateTask(id: string, patch: Partial<TaskRecord>): Promise<void>;
  /** The record with this id; `undefined` when there is none (or it was evicted). */
  getTask(id: string): Promise<TaskRecord | undefined>;
  /** One page of records matching the query, newest first. */
  listTasks(query: TaskQuery): Promise<TaskPage>;
  /**
   * How many tasks match the query's user and plugin filters, per state. Optional: without it the host counts
   * by reading every page of `listTasks`.
   */
  countTasks?(query: Pick<TaskQuery, 'user' | 'plugin'>): Promise<TaskCounts>;
  /** Tasks in `queued` or `running` state, oldest first: what crash recovery looks at. */
  listUnfinishedTasks(): Promise<readonly TaskRecord[]>;

  /** Appends lines to a task's log; lines of an unknown task are dropped. */
  appendLogs(taskId: string, entries: readonly TaskLogEntry[]): Promise<void>;
  /** A task's log lines in `seq` order, paged by `query`. */
  getLogs(taskId: string, query?: LogQuery): Promise<readonly TaskLogEntry[]>;

  /** Stores a schedule, replacing one with the same id. */
  saveSchedule(schedule: ScheduleRecord): Promise<void>;
  /** The schedule with this id; `undefined` when there is none. */
  getSchedule(id: string): Promise<ScheduleRecord | undefined>;
  /** Every stored schedule. */
  listSchedules(): Promise<readonly ScheduleRecord[]>;
  /** Removes a schedule; an unknown id is ignored. */
  deleteSchedule(id: string): Promise<void>;

  /** Stores a catalogue entry, replacing one with the same id. */
  savePluginEntry(entry: PluginCatalogueEntry): Promise<void>;
  /** The catalogue entry of this plugin id; `undefined` when no host has seen it. */
  getPluginEntry(id: string): Promise<PluginCatalogueEntry | undefined>;
  /** Every catalogue entry. */
  listPluginEntries(): Promise<readonly PluginCatalogueEntry[]>;

  /**
   * Claims an idempotency key in one atomic step, also against other processes sharing the store: stores `record`
   * unless the key is held by an entry that has not expired (`expiresAt > record.createdAt`) and that is settled
   * or was claimed at or after `reclaimPendingBefore`. Returns the entry in force: `record` when it was stored.
   * Optional; without it (and {@link TaskStore.settleIdempotencyKey}) executes with an `idempotencyKey` are refused.
   */
  claimIdempotencyKey?(record: IdempotencyRecord, reclaimPendingBefore: number): Promise<IdempotencyRecord>;
  /**
   * Settles the entry of `key` stored by the claim `claimId`: records the tasks its execution created, or with
   * `null` removes it so the key can be claimed again. An entry of another claim (one that took over) is left alone.
   */
  settleIdempotencyKey?(key: string, claimId: string, taskIds: readonly string[] | null): Promise<void>;
  /**
   * Present on a store that several host processes share (PostgreSQL): what makes them behave as one host.
   * Stores kept by one process (memory, SQLite) leave it out, and the host then works as before.
   */
  readonly shared?: SharedTaskStore;
}

/**
 * The optional capability of a store shared by several host processes. `host.start()` connects it once the
 * runtime has started; the store keeps the link until it is closed.
 *
 * - Events: the store sends this process's `task:*` and `schedule:fired` events to the other processes and emits
 *   theirs on this host's bus, so event streams and waits see every task, wherever it runs.
 * - Cancel: `host.tasks.cancel` asks the store when its runtime does not hold the task; the process running it
 *   cancels it, and its `task:finished` event settles the cancel here.
 * - Schedules: when present (and the runtime keeps none of its own), background-task schedules are armed in the
 *   store, which fires each due run once across the processes through {@link StoreLink.fireSchedule}.
 * - Crash recovery: `listUnfinishedTasks` answers only the tasks no live process holds.
 */
export interface SharedTaskStore {
  /** Starts relaying events and cancels, and firing schedules, for this host. */
  connect(link: StoreLink): Promise<void>;
  /**
   * Forwards a cancel to the live process that runs the task. Resolves true when one took it (the task's end then
   * arrives as a `task:finished` event), false when no other live process holds the task.
   */
  cancel(id: string, options?: CancelOptions): Promise<boolean>;
  /** When present, background-task schedules are kept in the store and fire once across the processes. */
  readonly schedules?: RuntimeSchedules;
}

/** What a shared store gets from the host it serves. */
export interface StoreLink {
  /** The host's event bus: local events to send, remote ones to emit. */
  readonly events: EventEmitter<HostEvents>;
  /** False when the runtime already delivers every task's events to every process: the store relays none. */
  readonly relayEvents: boolean;
  /** Cancels a task on this host's runtime; false when the runtime does not hold it. */
  cancel(id: string, options?: CancelOptions): Promise<boolean>;
  /** Runs a due firing of a schedule this host armed (as a runtime's schedules do). */
  fireSchedule(id: string, dueAt: number): Promise<ScheduleRecord>;
  /** Reports a failure outside any task without stopping the host. */
  reportError(error: unknown): void;
}

/** Validates and normalises a page size. */
export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return 50;
  if (!Number.isInteger(limit) || limit < 1) return 1;
  return Math.min(limit, 500);
}

/** Encodes the last id of a page as an opaque cursor. */
export function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

/** Decodes a cursor made by {@link encodeCursor}; `undefined` for a malformed one. */
export function decodeCursor(cursor: string | undefined): string | undefined {
  if (!cursor) return undefined;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  return /^[0-9a-z_-]{1,64}$/i.test(id) ? id : undefined;
}
