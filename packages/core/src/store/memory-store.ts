import { describeValue, PlugboardError } from '../errors.js';
import { isFinalState, type TaskLogEntry, type TaskRecord } from '../task.js';
import type { IdempotencyRecord } from './idempotency-record.js';
import { MemoryIdempotencyKeys } from './memory-idempotency-keys.js';
import {
  decodeCursor,
  emptyCounts,
  encodeCursor,
  type LogQuery,
  type PluginCatalogueEntry,
  pageLimit,
  type ScheduleRecord,
  type TaskCounts,
  type TaskPage,
  type TaskQuery,
  type TaskStore,
} from './store.js';

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Finished tasks kept; the oldest finished are evicted first.
   * @default 10000
   */
  readonly maxFinishedTasks?: number;
  /**
   * Finished tasks older than this (ms since they finished) are evicted.
   * @default 86_400_000 (one day)
   */
  readonly maxFinishedAgeMs?: number;
  /**
   * Log lines kept per task; older lines are dropped first (their `seq` numbers stay, so readers see the gap).
   * @default 1000
   */
  readonly maxLogEntriesPerTask?: number;
  /** Clock used for age-based retention. @default Date.now */
  readonly now?: () => number;
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new PlugboardError(
      'PLUGBOARD_INVALID_OPTION',
      `Expected \`${name}\` to be an integer >= 1, got ${describeValue(value)}.`,
    );
  }
  return value;
}

/** What the memory store holds for one task: its current record, its log lines and its place among the finished. */
interface HeldTask {
  record: TaskRecord;
  logs: TaskLogEntry[] | undefined;
  /** The task's place in the eviction queue while it is finished (a number that grows with each finish); 0 otherwise. */
  finishSeq: number;
}

/** The default store: everything in memory, with bounded retention so memory stays flat under load. */
export class MemoryTaskStore implements TaskStore {
  readonly name = 'memory';
  /** One entry per task, so an update replaces the record without touching the map. */
  readonly #tasks = new Map<string, HeldTask>();
  readonly #idempotencyKeys = new MemoryIdempotencyKeys();
  /** How many held tasks are finished. */
  #finishedCount = 0;
  /**
   * Finished tasks in the order they finished, read from `#head`: the eviction order, as three parallel arrays
   * (the task, its `finishSeq` then, and when it finished). An array queue, because reading the oldest key of a
   * Map after many deletions scans every deleted slot. Entries whose task was dropped or is no longer finished
   * (their seq is not the task's `finishSeq`) are stale and skipped.
   */
  #order: Array<HeldTask | undefined> = [];
  #orderSeq: number[] = [];
  #orderAt: number[] = [];
  #head = 0;
  #finishSeq = 0;
  readonly #schedules = new Map<string, ScheduleRecord>();
  readonly #plugins = new Map<string, PluginCatalogueEntry>();
  readonly #maxFinished: number;
  readonly #maxAge: number;
  readonly #maxLogs: number;
  readonly #now: () => number;

  constructor(options: MemoryStoreOptions = {}) {
    this.#maxFinished = positiveInteger('maxFinishedTasks', options.maxFinishedTasks, 10_000);
    this.#maxAge = positiveInteger('maxFinishedAgeMs', options.maxFinishedAgeMs, 86_400_000);
    this.#maxLogs = positiveInteger('maxLogEntriesPerTask', options.maxLogEntriesPerTask, 1000);
    this.#now = options.now ?? Date.now;
  }

  async open(): Promise<void> {}
  async close(): Promise<void> {}

  async insertTask(record: TaskRecord): Promise<void> {
    let held = this.#tasks.get(record.id);
    if (held === undefined) {
      held = { record, logs: undefined, finishSeq: 0 };
      this.#tasks.set(record.id, held);
    } else held.record = record;
    if (isFinalState(record.state)) this.#markFinished(held);
    else this.#unmarkFinished(held);
  }

  async updateTask(id: string, patch: Partial<TaskRecord>): Promise<void> {
    const held = this.#tasks.get(id);
    if (!held) return;
    const current = held.record;
    // A new record each time (readers keep the snapshot they were given): a shallow copy, then the patch.
    const next = Object.assign({ ...current }, patch);
    if (patch.id !== undefined) next.id = id;
    held.record = next;
    if (isFinalState(next.state)) {
      if (!isFinalState(current.state)) this.#markFinished(held);
    } else this.#unmarkFinished(held);
  }

  async getTask(id: string): Promise<TaskRecord | undefined> {
    this.#evictExpired();
    return this.#tasks.get(id)?.record;
  }

  async listTasks(query: TaskQuery): Promise<TaskPage> {
    this.#evictExpired();
    const limit = pageLimit(query.limit);
    const after = decodeCursor(query.cursor);
    const states = query.state === undefined ? undefined : new Set([query.state].flat());
    const matches: TaskRecord[] = [];
    // Records are inserted when created and ids sort by creation time: newest first is the map read backwards.
    const all = [...this.#tasks.values()];
    for (let i = all.length - 1; i >= 0; i--) {
      const record = all[i]!.record;
      if (after !== undefined && record.id >= after) continue;
      if (query.user !== undefined && record.user.id !== query.user) continue;
      if (query.plugin !== undefined && record.pluginId !== query.plugin) continue;
      if (query.parent !== undefined && record.parentId !== query.parent) continue;
      if (states && !states.has(record.state)) continue;
      matches.push(record);
      if (matches.length > limit) break;
    }
    const items = matches.slice(0, limit);
    const last = items.at(-1);
    return { items, nextCursor: matches.length > limit && last ? encodeCursor(last.id) : null };
  }

  async countTasks(query: Pick<TaskQuery, 'user' | 'plugin'>): Promise<TaskCounts> {
    this.#evictExpired();
    const counts = emptyCounts();
    for (const { record } of this.#tasks.values()) {
      if (query.user !== undefined && record.user.id !== query.user) continue;
      if (query.plugin !== undefined && record.pluginId !== query.plugin) continue;
      counts[record.state]++;
    }
    return counts;
  }

  async listUnfinishedTasks(): Promise<readonly TaskRecord[]> {
    const unfinished: TaskRecord[] = [];
    for (const { record } of this.#tasks.values()) {
      if (record.state === 'queued' || record.state === 'running') unfinished.push(record);
    }
    return unfinished;
  }

  async appendLogs(taskId: string, entries: readonly TaskLogEntry[]): Promise<void> {
    const held = this.#tasks.get(taskId);
    if (!held) return;
    if (!held.logs) {
      // A copy of exactly the batch's length: an array grown by push keeps room for more than one task logs.
      held.logs = entries.slice(-this.#maxLogs);
      return;
    }
    const log = held.logs;
    log.push(...entries);
    if (log.length > this.#maxLogs) log.splice(0, log.length - this.#maxLogs);
  }

  async getLogs(taskId: string, query: LogQuery = {}): Promise<readonly TaskLogEntry[]> {
    const log = this.#tasks.get(taskId)?.logs ?? [];
    const after = query.after ?? 0;
    const limit = query.limit ?? 1000;
    const out: TaskLogEntry[] = [];
    if (limit <= 0) return out;
    for (const entry of log) {
      if (entry.seq <= after) continue;
      out.push(entry);
      if (out.length >= limit) break;
    }
    return out;
  }

  async saveSchedule(schedule: ScheduleRecord): Promise<void> {
    this.#schedules.set(schedule.id, schedule);
  }
  async getSchedule(id: string): Promise<ScheduleRecord | undefined> {
    return this.#schedules.get(id);
  }
  async listSchedules(): Promise<readonly ScheduleRecord[]> {
    return [...this.#schedules.values()];
  }
  async deleteSchedule(id: string): Promise<void> {
    this.#schedules.delete(id);
  }

  async savePluginEntry(entry: PluginCatalogueEntry): Promise<void> {
    this.#plugins.set(entry.id, entry);
  }
  async getPluginEntry(id: string): Promise<PluginCatalogueEntry | undefined> {
    return this.#plugins.get(id);
  }
  async listPluginEntries(): Promise<readonly PluginCatalogueEntry[]> {
    return [...this.#plugins.values()];
  }

  async claimIdempotencyKey(
    record: IdempotencyRecord,
    reclaimPendingBefore: number,
  ): Promise<IdempotencyRecord> {
    return this.#idempotencyKeys.claim(record, reclaimPendingBefore);
  }

  async settleIdempotencyKey(key: string, claimId: string, taskIds: readonly string[] | null): Promise<void> {
    this.#idempotencyKeys.settle(key, claimId, taskIds);
  }

  /** How many task records are held now (finished and unfinished). */
  get size(): number {
    return this.#tasks.size;
  }

  #markFinished(held: HeldTask): void {
    if (held.finishSeq === 0) this.#finishedCount++;
    held.finishSeq = ++this.#finishSeq;
    this.#order.push(held);
    this.#orderSeq.push(held.finishSeq);
    this.#orderAt.push(this.#now());
    while (this.#finishedCount > this.#maxFinished && this.#head < this.#order.length) this.#evictOldest();
    this.#compactOrder();
  }

  /** A task that is no longer finished (stored again as queued or running) leaves the eviction queue. */
  #unmarkFinished(held: HeldTask): void {
    if (held.finishSeq === 0) return;
    held.finishSeq = 0;
    this.#finishedCount--;
  }

  #evictExpired(): void {
    const horizon = this.#now() - this.#maxAge;
    while (this.#head < this.#order.length && this.#orderAt[this.#head]! <= horizon) this.#evictOldest();
    this.#compactOrder();
  }

  /** Takes the oldest entry off the queue and drops its task, unless the entry is stale. */
  #evictOldest(): void {
    const held = this.#order[this.#head]!;
    const seq = this.#orderSeq[this.#head]!;
    // The consumed slot no longer holds the task, so an evicted record is freed before the queue is compacted.
    this.#order[this.#head++] = undefined;
    if (held.finishSeq === seq) {
      held.finishSeq = 0;
      this.#finishedCount--;
      this.#tasks.delete(held.record.id);
    }
  }

  /** Frees the queue's consumed head once it is the larger part, and its stale entries once they outnumber the live ones. */
  #compactOrder(): void {
    const held = this.#order.length - this.#head;
    if (this.#head <= held && held <= 2 * this.#finishedCount + 1024) return;
    const order: Array<HeldTask | undefined> = [];
    const orderSeq: number[] = [];
    const orderAt: number[] = [];
    for (let i = this.#head; i < this.#order.length; i++) {
      const task = this.#order[i]!;
      if (task.finishSeq !== this.#orderSeq[i]) continue;
      order.push(task);
      orderSeq.push(this.#orderSeq[i]!);
      orderAt.push(this.#orderAt[i]!);
    }
    this.#order = order;
    this.#orderSeq = orderSeq;
    this.#orderAt = orderAt;
    this.#head = 0;
  }
}

/** Creates the default in-memory {@link TaskStore}. */
export function memoryStore(options?: MemoryStoreOptions): MemoryTaskStore {
  return new MemoryTaskStore(options);
}
