import {
  isFinalState,
  isPlugboardError,
  type LogQuery,
  PlugboardError,
  type ScheduleRecord,
  type TaskCounts,
  type TaskLogEntry,
  type TaskPage,
  type TaskQuery,
  type TaskRecord,
  type TaskState,
  type TaskStore,
} from '@plugboard/core';
import {
  decodeCursor,
  emptyCounts,
  encodeCursor,
  type IdempotencyRecord,
  type PluginCatalogueEntry,
  pageLimit,
} from '@plugboard/core/spi';
import type BetterSqlite3 from 'better-sqlite3';
import { openDatabase } from './database.js';
import { SqliteIdempotencyKeys } from './idempotency-keys.js';
import {
  type ResolvedSqliteStoreOptions,
  resolveSqliteStoreOptions,
  type SqliteStoreOptions,
} from './options.js';
import {
  type LogRow,
  type PluginRow,
  pluginToRow,
  rowToLog,
  rowToPlugin,
  rowToSchedule,
  rowToTask,
  type ScheduleRow,
  scheduleToRow,
  TASK_COLUMNS,
  type TaskRow,
  taskToRow,
} from './rows.js';
import { prepareStatements, type Statements } from './statements.js';
import { WriteBatch } from './write-batch.js';

/** What `updateTask` writes for each record field it is given. */
const PATCH_COLUMNS: Readonly<Record<string, (value: unknown) => Readonly<Record<string, unknown>>>> = {
  pluginId: (v) => ({ plugin_id: v }),
  taskType: (v) => ({ task_type: v }),
  input: (v) => ({ input: v === undefined ? null : JSON.stringify(v) }),
  user: (v) => ({ user: JSON.stringify(v), user_id: (v as TaskRecord['user']).id }),
  state: (v) => ({ state: v }),
  progress: (v) => ({ progress: v }),
  progressMessage: (v) => ({ progress_message: v }),
  statusText: (v) => ({ status_text: v }),
  createdAt: (v) => ({ created_at: v }),
  startedAt: (v) => ({ started_at: v }),
  finishedAt: (v) => ({ finished_at: v }),
  result: (v) => ({ result: v === undefined ? null : JSON.stringify(v) }),
  error: (v) => ({ error: JSON.stringify(v ?? null) }),
  attempt: (v) => ({ attempt: v }),
  maxAttempts: (v) => ({ max_attempts: v }),
  priority: (v) => ({ priority: v }),
  timeoutMs: (v) => ({ timeout_ms: v }),
  scheduleId: (v) => ({ schedule_id: v }),
  contextId: (v) => ({ context_id: v }),
  logCount: (v) => ({ log_count: v }),
  parentId: (v) => ({ parent_id: v }),
  waitingReason: (v) => ({ waiting_reason: v }),
};

interface Retention {
  readonly state: TaskState;
  readonly retired_at: number | null;
  readonly retired_seq: number | null;
}

/**
 * The embedded persistent store: task records, logs, schedules and the plugin catalogue in one SQLite file in
 * WAL mode, so a host that restarts (or crashes) keeps them.
 *
 * Writes are queued and committed together once per turn of the event loop; every read commits what is queued
 * first, so it sees every write made before it. Retention follows the memory store: finished tasks by count and
 * age, log lines per task. Beyond the shared contract, `appendLogs` also advances the record's `logCount` in the
 * same transaction, and `logCount` never moves backwards, so crash recovery never reuses a log `seq`.
 */
export class SqliteTaskStore implements TaskStore {
  readonly name = 'sqlite';
  readonly #options: ResolvedSqliteStoreOptions;
  #db: BetterSqlite3.Database | undefined;
  #statements: Statements | undefined;
  #batch: WriteBatch | undefined;
  readonly #updateStatements = new Map<string, BetterSqlite3.Statement>();
  /** Updates waiting for the next commit, by task id. */
  readonly #pendingUpdates = new Map<string, PendingUpdate>();
  readonly #listStatements = new Map<string, BetterSqlite3.Statement>();
  /** Finished tasks held, and the last finish order handed out: the count-based retention. */
  #finishedCount = 0;
  #lastRetiredSeq = 0;
  readonly #idempotencyKeys = new SqliteIdempotencyKeys();
  /** Set when a write of the commit under way took the finished count over the limit. */
  #overflow = false;

  constructor(options: SqliteStoreOptions) {
    this.#options = resolveSqliteStoreOptions(options);
  }

  /** The database file. */
  get path(): string {
    return this.#options.path;
  }

  /** True between `open()` and `close()`. */
  get isOpen(): boolean {
    return this.#db !== undefined;
  }

  async open(): Promise<void> {
    if (this.#db) return;
    const db = openDatabase(this.#options);
    try {
      this.#statements = prepareStatements(db);
      this.#finishedCount = (this.#statements.countRetired.get() as { count: number }).count;
      this.#lastRetiredSeq = (this.#statements.lastRetiredSeq.get() as { seq: number }).seq;
    } catch (error) {
      db.close();
      this.#statements = undefined;
      throw this.#unavailable('could not be read', error);
    }
    this.#db = db;
    this.#batch = new WriteBatch(db, {
      begin: () => {
        // The batch being committed holds every pending update: later ones start new writes, even when this
        // commit fails before any write ran (a lock held elsewhere).
        this.#pendingUpdates.clear();
        const finished = this.#finishedCount;
        const seq = this.#lastRetiredSeq;
        return () => {
          this.#finishedCount = finished;
          this.#lastRetiredSeq = seq;
          this.#overflow = false;
        };
      },
      // Finished tasks over the limit are evicted once per commit, in one DELETE, rather than one row per finish:
      // no read happens inside a commit, so readers see the same retention either way.
      beforeCommit: () => {
        if (!this.#overflow) return;
        this.#overflow = false;
        const excess = this.#finishedCount - this.#options.maxFinishedTasks;
        if (excess > 0) this.#finishedCount -= this.#statements!.evictOldestRetired.run(excess).changes;
      },
    });
    this.#evictExpired();
  }

  async close(): Promise<void> {
    const db = this.#db;
    if (!db) return;
    this.#batch?.flush();
    this.#db = undefined;
    this.#batch = undefined;
    this.#pendingUpdates.clear();
    this.#statements = undefined;
    this.#updateStatements.clear();
    this.#listStatements.clear();
    db.close();
  }

  /**
   * Writes a consistent copy of the database to `destination` while the store stays in use (SQLite's online
   * backup), after committing queued writes. Copying the file by hand can miss what is still in the WAL.
   */
  async backup(destination: string): Promise<void> {
    const db = this.#read(() => this.#db!);
    try {
      await db.backup(destination);
    } catch (error) {
      throw this.#unavailable(`could not be backed up to \`${destination}\``, error);
    }
  }

  insertTask(record: TaskRecord): Promise<void> {
    let row: TaskRow;
    try {
      row = taskToRow(record);
    } catch (error) {
      return Promise.reject(error);
    }
    const unfinished = !isFinalState(record.state);
    return this.#write((st) => {
      // A new unfinished task, the usual insert, is not in retention: one INSERT, no read before it.
      if (unfinished && st.insertNewTask.run(...TASK_COLUMNS.map((c) => row[c]), null, null).changes === 1)
        return;
      const current = st.getTaskRetention.get(row.id) as Retention | undefined;
      const retention = this.#retention(current, record.state);
      st.upsertTask.run({ ...row, ...retention });
      if (isFinalState(record.state)) this.#evictOverflow();
    });
  }

  updateTask(id: string, patch: Partial<TaskRecord>): Promise<void> {
    const values: Record<string, unknown> = { id };
    try {
      for (const [field, value] of Object.entries(patch)) {
        const columns = PATCH_COLUMNS[field];
        // `result` is the one optional field: `undefined` clears it. Other fields are never unset.
        if (!columns || (value === undefined && field !== 'result')) continue;
        Object.assign(values, columns(value));
      }
    } catch (error) {
      return Promise.reject(error);
    }
    const state = typeof patch.state === 'string' ? patch.state : undefined;
    // Updates of one task waiting for the same commit become one UPDATE (a short task's `running` and its end
    // usually do): later values win, and every caller's promise settles with that commit.
    const pending = this.#pendingUpdates.get(id);
    if (pending) {
      Object.assign(pending.values, values);
      if (state !== undefined) pending.state = state;
      return pending.done;
    }
    const update: PendingUpdate = { values, state, done: Promise.resolve() };
    this.#pendingUpdates.set(id, update);
    update.done = this.#write((st) => {
      const target = update.state;
      // Progress, status and log counts do not move a task in retention: one UPDATE, no read before it.
      if (target === undefined) {
        this.#updateStatement(Object.keys(update.values)).run(update.values);
        return;
      }
      if (isFinalState(target)) {
        // A task finishing, the usual case: retired in the same statement, which keeps the retirement of a task
        // already finished. No read before it.
        const seq = this.#lastRetiredSeq + 1;
        const retired = this.#finishStatement(Object.keys(update.values)).get({
          ...update.values,
          retire_at: this.#options.now(),
          retire_seq: seq,
        }) as { retired_seq: number } | undefined;
        if (retired?.retired_seq === seq) {
          this.#lastRetiredSeq = seq;
          this.#finishedCount++;
          this.#evictOverflow();
        }
        return;
      }
      const current = st.getTaskRetention.get(id) as Retention | undefined;
      if (!current) return;
      const row = { ...update.values, ...this.#retention(current, target) };
      this.#updateStatement(Object.keys(row)).run(row);
      if (isFinalState(target) && !isFinalState(current.state)) {
        this.#evictOverflow();
      }
    });
    return update.done;
  }

  async getTask(id: string): Promise<TaskRecord | undefined> {
    return this.#read((st) => {
      this.#evictExpired();
      const row = st.getTask.get(id) as TaskRow | undefined;
      return row ? rowToTask(row) : undefined;
    });
  }

  async listTasks(query: TaskQuery): Promise<TaskPage> {
    return this.#read(() => {
      this.#evictExpired();
      const limit = pageLimit(query.limit);
      const after = decodeCursor(query.cursor);
      const states = query.state === undefined ? undefined : [...new Set([query.state].flat())];
      const where: string[] = [];
      const params: unknown[] = [];
      if (after !== undefined) {
        where.push('id < ?');
        params.push(after);
      }
      if (query.user !== undefined) {
        where.push('user_id = ?');
        params.push(query.user);
      }
      if (query.plugin !== undefined) {
        where.push('plugin_id = ?');
        params.push(query.plugin);
      }
      if (query.parent !== undefined) {
        where.push('parent_id = ?');
        params.push(query.parent);
      }
      if (states) {
        where.push(`state IN (${states.map(() => '?').join(', ')})`);
        params.push(...states);
      }
      const rows = this.#listStatement(where).all(...params, limit + 1) as TaskRow[];
      const items = rows.slice(0, limit).map(rowToTask);
      const last = items.at(-1);
      return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.id) : null };
    });
  }

  async countTasks(query: Pick<TaskQuery, 'user' | 'plugin'>): Promise<TaskCounts> {
    return this.#read(() => {
      this.#evictExpired();
      const where: string[] = [];
      const params: unknown[] = [];
      if (query.user !== undefined) {
        where.push('user_id = ?');
        params.push(query.user);
      }
      if (query.plugin !== undefined) {
        where.push('plugin_id = ?');
        params.push(query.plugin);
      }
      const rows = this.#db!.prepare(
        `SELECT state, COUNT(*) AS n FROM tasks ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} GROUP BY state`,
      ).all(...params) as Array<{ state: TaskState; n: number }>;
      const counts = emptyCounts();
      for (const row of rows) if (row.state in counts) counts[row.state] = row.n;
      return counts;
    });
  }

  async listUnfinishedTasks(): Promise<readonly TaskRecord[]> {
    return this.#read((st) => (st.listUnfinished.all() as TaskRow[]).map(rowToTask));
  }

  appendLogs(taskId: string, entries: readonly TaskLogEntry[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    const lines = entries.map((e) => [e.seq, e.time, e.level, String(e.message)] as const);
    const lastSeq = Math.max(...lines.map(([seq]) => seq));
    return this.#write((st) => {
      if (!st.getTaskRetention.get(taskId)) return;
      for (const line of lines) st.insertLog.run(taskId, ...line);
      st.advanceLogCount.run(lastSeq, taskId);
      st.trimLogs.run({ task: taskId, keep: this.#options.maxLogEntriesPerTask });
    });
  }

  async getLogs(taskId: string, query: LogQuery = {}): Promise<readonly TaskLogEntry[]> {
    const limit = query.limit === undefined ? 1000 : Math.ceil(query.limit);
    if (limit <= 0) return [];
    return this.#read((st) =>
      (st.getLogs.all(taskId, query.after ?? 0, Number.isNaN(limit) ? -1 : limit) as LogRow[]).map(rowToLog),
    );
  }

  saveSchedule(schedule: ScheduleRecord): Promise<void> {
    const row = scheduleToRow(schedule);
    return this.#write((st) => {
      st.saveSchedule.run(row);
    });
  }

  async getSchedule(id: string): Promise<ScheduleRecord | undefined> {
    return this.#read((st) => {
      const row = st.getSchedule.get(id) as ScheduleRow | undefined;
      return row ? rowToSchedule(row) : undefined;
    });
  }

  async listSchedules(): Promise<readonly ScheduleRecord[]> {
    return this.#read((st) => (st.listSchedules.all() as ScheduleRow[]).map(rowToSchedule));
  }

  deleteSchedule(id: string): Promise<void> {
    return this.#write((st) => {
      st.deleteSchedule.run(id);
    });
  }

  savePluginEntry(entry: PluginCatalogueEntry): Promise<void> {
    const row = pluginToRow(entry);
    return this.#write((st) => {
      st.savePlugin.run(row);
    });
  }

  async getPluginEntry(id: string): Promise<PluginCatalogueEntry | undefined> {
    return this.#read((st) => {
      const row = st.getPlugin.get(id) as PluginRow | undefined;
      return row ? rowToPlugin(row) : undefined;
    });
  }

  async listPluginEntries(): Promise<readonly PluginCatalogueEntry[]> {
    return this.#read((st) => (st.listPlugins.all() as PluginRow[]).map(rowToPlugin));
  }

  async claimIdempotencyKey(
    record: IdempotencyRecord,
    reclaimPendingBefore: number,
  ): Promise<IdempotencyRecord> {
    let held = record;
    await this.#write((st) => {
      held = this.#idempotencyKeys.claim(st, record, reclaimPendingBefore);
    });
    return held;
  }

  settleIdempotencyKey(key: string, claimId: string, taskIds: readonly string[] | null): Promise<void> {
    return this.#write((st) => this.#idempotencyKeys.settle(st, key, claimId, taskIds));
  }

  /** Queues a write for the next batch; rejects with `PLUGBOARD_STORE_UNAVAILABLE` when it cannot commit. */
  #write(apply: (st: Statements) => void): Promise<void> {
    const batch = this.#batch;
    const st = this.#statements;
    if (!batch || !st) return Promise.reject(this.#notOpen());
    return batch
      .add(() => apply(st))
      .catch((error: unknown) => {
        throw this.#unavailable('could not be written', error);
      });
  }

  /** Commits queued writes, then reads, so a read sees every write made before it. */
  #read<T>(read: (st: Statements) => T): T {
    const st = this.#statements;
    if (!this.#batch || !st) throw this.#notOpen();
    this.#batch.flush();
    try {
      return read(st);
    } catch (error) {
      throw this.#unavailable('could not be read', error);
    }
  }

  /** Where a task stands in finished-task retention once it moves to `state`. */
  #retention(current: Retention | undefined, state: TaskState) {
    if (!isFinalState(state)) {
      if (current?.retired_seq != null) this.#finishedCount--;
      return { retired_at: null, retired_seq: null };
    }
    const now = this.#options.now();
    if (current && isFinalState(current.state) && current.retired_seq != null) {
      return { retired_at: current.retired_at ?? now, retired_seq: current.retired_seq };
    }
    this.#finishedCount++;
    return { retired_at: now, retired_seq: ++this.#lastRetiredSeq };
  }

  /** Marks the commit under way for eviction when the finished count is over the limit (see `beforeCommit`). */
  #evictOverflow(): void {
    if (this.#finishedCount > this.#options.maxFinishedTasks) this.#overflow = true;
  }

  #evictExpired(): void {
    const st = this.#statements!;
    const horizon = this.#options.now() - this.#options.maxFinishedAgeMs;
    if (!st.anyExpired.get(horizon)) return;
    this.#finishedCount -= st.evictExpired.run(horizon).changes;
  }

  #updateStatement(columns: readonly string[]): BetterSqlite3.Statement {
    const key = columns.join(',');
    let statement = this.#updateStatements.get(key);
    if (!statement) {
      statement = this.#db!.prepare(`UPDATE tasks SET ${updateSets(columns).join(', ')} WHERE id = @id`);
      this.#updateStatements.set(key, statement);
    }
    return statement;
  }

  /**
   * The UPDATE that moves a task to a final state and retires it (`@retire_at`, `@retire_seq`) unless it is
   * retired already; it answers the task's `retired_seq`, so the caller knows whether its number was taken.
   */
  #finishStatement(columns: readonly string[]): BetterSqlite3.Statement {
    const key = `finish:${columns.join(',')}`;
    let statement = this.#updateStatements.get(key);
    if (!statement) {
      const sets = [
        ...updateSets(columns),
        'retired_at = CASE WHEN retired_seq IS NULL THEN @retire_at ELSE coalesce(retired_at, @retire_at) END',
        'retired_seq = coalesce(retired_seq, @retire_seq)',
      ];
      statement = this.#db!.prepare(
        `UPDATE tasks SET ${sets.join(', ')} WHERE id = @id RETURNING retired_seq`,
      );
      this.#updateStatements.set(key, statement);
    }
    return statement;
  }

  #listStatement(where: readonly string[]): BetterSqlite3.Statement {
    const key = where.join(' AND ');
    let statement = this.#listStatements.get(key);
    if (!statement) {
      statement = this.#db!.prepare(
        `SELECT ${TASK_COLUMNS.join(', ')} FROM tasks ${where.length > 0 ? `WHERE ${key}` : ''}
         ORDER BY id DESC LIMIT ?`,
      );
      this.#listStatements.set(key, statement);
    }
    return statement;
  }

  #notOpen(): PlugboardError {
    return new PlugboardError(
      'PLUGBOARD_STORE_UNAVAILABLE',
      `The SQLite store at \`${this.#options.path}\` is not open: host.start() opens it (or call store.open()).`,
    );
  }

  #unavailable(what: string, error: unknown): PlugboardError {
    if (isPlugboardError(error)) return error;
    return new PlugboardError(
      'PLUGBOARD_STORE_UNAVAILABLE',
      `The SQLite store at \`${this.#options.path}\` ${what}: ${error instanceof Error ? error.message : String(error)}.`,
      { cause: error },
    );
  }
}

/** The SET clauses of an UPDATE of `columns` (named like the parameters); `log_count` never moves backwards. */
function updateSets(columns: readonly string[]): string[] {
  return columns
    .filter((c) => c !== 'id')
    .map((c) => (c === 'log_count' ? 'log_count = max(log_count, @log_count)' : `${c} = @${c}`));
}

/** One task's update waiting for the next commit. */
interface PendingUpdate {
  readonly values: Record<string, unknown>;
  state: TaskState | undefined;
  done: Promise<void>;
}

/** Creates the embedded persistent {@link TaskStore} on an SQLite file. */
export function sqliteStore(options: SqliteStoreOptions): SqliteTaskStore {
  return new SqliteTaskStore(options);
}
