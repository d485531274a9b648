import {
  type IdempotencyRecord,
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
  type PluginCatalogueEntry,
  pageLimit,
} from '@plugboard/core/spi';
import pg from 'pg';
import { migrate } from './migrations.js';
import {
  type PostgresStoreOptions,
  type ResolvedPostgresStoreOptions,
  resolvePostgresStoreOptions,
} from './options.js';
import {
  type IdempotencyRow,
  idempotencyValues,
  type LogRow,
  PATCH_COLUMNS,
  type PluginRow,
  pluginValues,
  rowToIdempotency,
  rowToLog,
  rowToPlugin,
  rowToSchedule,
  rowToTask,
  type ScheduleRow,
  scheduleValues,
  TASK_COLUMN_TYPES,
  TASK_COLUMNS,
  TASK_SELECT,
  type TaskRow,
  taskValues,
  text,
} from './rows.js';
import { StoreSharing } from './store-sharing.js';
import { isConnectionFault, WriteBatch } from './write-batch.js';

/** Expired finished tasks are deleted at most this often (reads leave them out at once). */
const EXPIRY_SWEEP_MS = 1000;
/** Claims of idempotency keys between two deletions of expired keys. */
const KEY_SWEEP_EVERY = 1024;
/** How often a claim is tried again when the key it found taken was released before it could be read. */
const CLAIM_ATTEMPTS = 5;

/** One task's update waiting for the next commit. */
interface PendingUpdate {
  readonly columns: Map<string, readonly [type: string, value: unknown]>;
  state: TaskState | undefined;
  done: Promise<void>;
}

/**
 * A store on PostgreSQL: task records, logs, schedules and the plugin catalogue in one schema of a database that
 * several host processes may share. Each process sees the one history; with a host connected, task events reach
 * every process's event bus (`LISTEN/NOTIFY`), a cancel finds the process running the task, and background
 * schedules fire once across the processes (see {@link StoreSharing}).
 *
 * Writes are queued and committed together once per turn of the event loop, in one transaction; every read
 * commits what is queued first, so it sees every write made before it. Retention follows the SQLite store:
 * finished tasks by count and age, log lines per task; `logCount` never moves backwards. When the database cannot
 * be reached, reads and writes reject with `PLUGBOARD_STORE_UNAVAILABLE` and work again once it answers.
 */
export class PostgresTaskStore implements TaskStore {
  readonly name = 'postgres';
  readonly #options: ResolvedPostgresStoreOptions;
  readonly #schema: string;
  #pool: pg.Pool | undefined;
  #batch: WriteBatch | undefined;
  /** Updates waiting for the next commit, by task id. */
  readonly #pendingUpdates = new Map<string, PendingUpdate>();
  /** Whether a write of the open transaction finished a task, so retention has to look. */
  #finishedInBatch = false;
  #lastSweep = Number.NEGATIVE_INFINITY;
  #claimsSinceKeySweep = 0;
  /** Prepared UPDATE statements by text. */
  readonly #statementNames = new Map<string, string>();
  /** Events, cancels and schedules across the processes sharing the schema. */
  readonly shared: StoreSharing;

  constructor(options: PostgresStoreOptions) {
    this.#options = resolvePostgresStoreOptions(options);
    this.#schema = this.#options.schema;
    this.shared = new StoreSharing({
      schema: this.#schema,
      pollIntervalMs: this.#options.pollIntervalMs,
      pool: () => this.#pool,
      write: (step) => this.#write(step),
      read: (query, values) => this.#query(query, values),
      unavailable: (what, error) => this.#unavailable(what, error),
      getTask: (id) => this.getTask(id),
      getLogs: (id, query) => this.getLogs(id, query),
    });
  }

  /** The schema the store's tables live in. */
  get schema(): string {
    return this.#schema;
  }

  /** True between `open()` and `close()`. */
  get isOpen(): boolean {
    return this.#pool !== undefined;
  }

  async open(): Promise<void> {
    if (this.#pool) return;
    const { pool: given, connectionString, maxConnections } = this.#options;
    const pool = given ?? new pg.Pool({ connectionString, max: maxConnections });
    // An idle connection the server dropped (a restart) must not crash the host: the next query reconnects.
    const onError = () => {};
    pool.on('error', onError);
    try {
      const client = await pool.connect();
      try {
        await migrate(client, this.#schema);
      } finally {
        client.release();
      }
      this.#pool = pool;
      this.#batch = new WriteBatch(pool, { afterCommit: (client) => this.#afterCommit(client) });
      await this.shared.open();
    } catch (error) {
      this.#pool = undefined;
      this.#batch = undefined;
      pool.off('error', onError);
      if (!given) await pool.end().catch(() => {});
      throw this.#unavailable('could not be opened', error);
    }
  }

  async close(): Promise<void> {
    const pool = this.#pool;
    if (!pool) return;
    const batch = this.#batch;
    await batch?.flush();
    await this.shared.close();
    // Writes made while the sharing closed (the last events it relays) are committed before the pool goes.
    await batch?.flush();
    this.#pool = undefined;
    this.#batch = undefined;
    this.#pendingUpdates.clear();
    if (!this.#options.pool) await pool.end().catch(() => {});
  }

  insertTask(record: TaskRecord): Promise<void> {
    let values: unknown[];
    try {
      values = taskValues(record);
    } catch (error) {
      return Promise.reject(error);
    }
    const final = isFinalState(record.state);
    const s = this.#schema;
    const n = TASK_COLUMNS.length;
    const params = TASK_COLUMNS.map((_, i) => `$${i + 1}::${TASK_COLUMN_TYPES[i]}`).join(', ');
    const updates = TASK_COLUMNS.slice(1)
      .map((c) => `${c} = EXCLUDED.${c}`)
      .join(', ');
    // A finished record keeps the retirement it already has (a replaced finished task stays where it was).
    const sql = final
      ? `INSERT INTO ${s}.tasks (${TASK_COLUMNS.join(', ')}, owner, retired_at, retired_seq)
         VALUES (${params}, $${n + 1}, $${n + 2}, nextval('${s}.retired_seq'))
         ON CONFLICT (id) DO UPDATE SET ${updates}, owner = EXCLUDED.owner,
           retired_at = coalesce(tasks.retired_at, EXCLUDED.retired_at),
           retired_seq = coalesce(tasks.retired_seq, EXCLUDED.retired_seq)`
      : `INSERT INTO ${s}.tasks (${TASK_COLUMNS.join(', ')}, owner, retired_at, retired_seq)
         VALUES (${params}, $${n + 1}, NULL, NULL)
         ON CONFLICT (id) DO UPDATE SET ${updates}, owner = EXCLUDED.owner, retired_at = NULL, retired_seq = NULL`;
    const args = final
      ? [...values, this.shared.processId, this.#options.now()]
      : [...values, this.shared.processId];
    return this.#write(async (client) => {
      await client.query({ name: final ? `${s}:insert-final` : `${s}:insert`, text: sql, values: args });
      if (final) this.#finishedInBatch = true;
    });
  }

  updateTask(id: string, patch: Partial<TaskRecord>): Promise<void> {
    const columns = new Map<string, readonly [string, unknown]>();
    try {
      for (const [field, value] of Object.entries(patch)) {
        const write = PATCH_COLUMNS[field];
        // `result` is the one optional field: `undefined` clears it. Other fields are never unset.
        if (!write || (value === undefined && field !== 'result')) continue;
        for (const [column, type, v] of write(value)) columns.set(column, [type, v]);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    const state = typeof patch.state === 'string' ? patch.state : undefined;
    if (columns.size === 0) return this.#write(async () => {});
    // Updates of one task waiting for the same commit become one UPDATE (a short task's `running` and its end
    // usually do): later values win, and every caller's promise settles with that commit.
    const pending = this.#pendingUpdates.get(id);
    if (pending) {
      for (const [column, value] of columns) {
        const earlier = pending.columns.get(column);
        // The log count never moves backwards, within one commit either.
        const keep = column === 'log_count' && earlier && (earlier[1] as number) > (value[1] as number);
        if (!keep) pending.columns.set(column, value);
      }
      if (state !== undefined) pending.state = state;
      return pending.done;
    }
    const update: PendingUpdate = { columns, state, done: Promise.resolve() };
    this.#pendingUpdates.set(id, update);
    update.done = this.#write(async (client) => {
      if (this.#pendingUpdates.get(id) === update) this.#pendingUpdates.delete(id);
      const values: unknown[] = [id];
      const sets: string[] = [];
      for (const [column, [type, value]] of update.columns) {
        values.push(value);
        const param = `$${values.length}::${type}`;
        sets.push(
          column === 'log_count' ? `log_count = greatest(log_count, ${param})` : `${column} = ${param}`,
        );
      }
      const target = update.state;
      if (target !== undefined && isFinalState(target)) {
        values.push(this.#options.now());
        // Retired in the same statement; a task already finished keeps its retirement.
        sets.push(
          `retired_at = CASE WHEN retired_seq IS NULL THEN $${values.length}::float8 ELSE retired_at END`,
          `retired_seq = coalesce(retired_seq, nextval('${this.#schema}.retired_seq'))`,
        );
        this.#finishedInBatch = true;
      } else if (target !== undefined) {
        sets.push('retired_at = NULL', 'retired_seq = NULL');
      }
      const text = `UPDATE ${this.#schema}.tasks SET ${sets.join(', ')} WHERE id = $1`;
      // A handful of column sets recur (running, progress, log count, the end): each is prepared once per
      // connection.
      await client.query({ name: this.#statementName(text), text, values });
    });
    return update.done;
  }

  async getTask(id: string): Promise<TaskRecord | undefined> {
    const { rows } = await this.#query<TaskRow>(
      `SELECT ${TASK_SELECT} FROM ${this.#schema}.tasks WHERE id = $1 AND ${this.#kept(2)}`,
      [id, this.#horizon()],
      'get-task',
    );
    return rows[0] ? rowToTask(rows[0]) : undefined;
  }

  async listTasks(query: TaskQuery): Promise<TaskPage> {
    const limit = pageLimit(query.limit);
    const after = decodeCursor(query.cursor);
    const states = query.state === undefined ? undefined : [...new Set([query.state].flat())];
    const values: unknown[] = [this.#horizon()];
    const where = [this.#kept(1)];
    if (after !== undefined) {
      values.push(after);
      where.push(`id < $${values.length}`);
    }
    if (query.user !== undefined) {
      values.push(query.user);
      where.push(`user_id = $${values.length}`);
    }
    if (query.plugin !== undefined) {
      values.push(query.plugin);
      where.push(`plugin_id = $${values.length}`);
    }
    if (query.parent !== undefined) {
      values.push(query.parent);
      where.push(`parent_id = $${values.length}`);
    }
    if (states) {
      values.push(states);
      where.push(`state = ANY($${values.length}::text[])`);
    }
    values.push(limit + 1);
    const { rows } = await this.#query<TaskRow>(
      `SELECT ${TASK_SELECT} FROM ${this.#schema}.tasks WHERE ${where.join(' AND ')}
       ORDER BY id DESC LIMIT $${values.length}`,
      values,
    );
    const items = rows.slice(0, limit).map(rowToTask);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.id) : null };
  }

  /** How many kept tasks of the user and plugin filters are in each state, in one grouped query. */
  async countTasks(query: Pick<TaskQuery, 'user' | 'plugin'>): Promise<TaskCounts> {
    const values: unknown[] = [this.#horizon()];
    const where = [this.#kept(1)];
    if (query.user !== undefined) {
      values.push(query.user);
      where.push(`user_id = $${values.length}`);
    }
    if (query.plugin !== undefined) {
      values.push(query.plugin);
      where.push(`plugin_id = $${values.length}`);
    }
    const { rows } = await this.#query<{ state: TaskState; n: number }>(
      `SELECT state, count(*)::int4 AS n FROM ${this.#schema}.tasks WHERE ${where.join(' AND ')} GROUP BY state`,
      values,
    );
    const counts = emptyCounts();
    for (const row of rows) if (row.state in counts) counts[row.state] = row.n;
    return counts;
  }

  /**
   * Unfinished tasks no live process holds, oldest first: those this process wrote, and those of processes that
   * stopped or died. They are claimed for this process in the same statement, so two processes starting together
   * never both recover one task.
   */
  async listUnfinishedTasks(): Promise<readonly TaskRecord[]> {
    const s = this.#schema;
    const { rows } = await this.#query<TaskRow>(
      `WITH claimed AS (
         UPDATE ${s}.tasks SET owner = $1
         WHERE id IN (
           SELECT id FROM ${s}.tasks
           WHERE state IN ('queued', 'running')
             AND (owner IS NULL OR owner = $1 OR owner NOT IN (${this.shared.liveProcessesSql(2)}))
           FOR UPDATE SKIP LOCKED)
         RETURNING ${TASK_SELECT})
       SELECT * FROM claimed ORDER BY id`,
      [this.shared.processId, this.shared.lockSpace],
    );
    return rows.map(rowToTask);
  }

  appendLogs(taskId: string, entries: readonly TaskLogEntry[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    const seqs = entries.map((e) => e.seq);
    const times = entries.map((e) => e.time);
    const levels = entries.map((e) => e.level);
    const messages = entries.map((e) => text(String(e.message)));
    const lastSeq = Math.max(...seqs);
    const s = this.#schema;
    const trim = lastSeq > this.#options.maxLogEntriesPerTask;
    return this.#write(async (client) => {
      // The log count moves with its lines, in one statement; lines of an unknown task match no row.
      await client.query({
        name: `${s}:append-logs`,
        text: `WITH task AS (
                 UPDATE ${s}.tasks SET log_count = greatest(log_count, $6) WHERE id = $1 RETURNING id)
               INSERT INTO ${s}.task_logs (task_id, seq, time, level, message)
               SELECT task.id, line.* FROM task,
                 unnest($2::int4[], $3::float8[], $4::text[], $5::text[]) AS line
               ON CONFLICT (task_id, seq) DO NOTHING`,
        values: [taskId, seqs, times, levels, messages, lastSeq],
      });
      // Seqs start at 1: a task with no seq above the limit cannot hold more lines than it keeps.
      if (!trim) return;
      await client.query({
        name: `${s}:trim-logs`,
        text: `DELETE FROM ${s}.task_logs WHERE task_id = $1 AND seq <= (
                 SELECT seq FROM ${s}.task_logs WHERE task_id = $1 ORDER BY seq DESC OFFSET $2 LIMIT 1)`,
        values: [taskId, this.#options.maxLogEntriesPerTask],
      });
    });
  }

  async getLogs(taskId: string, query: LogQuery = {}): Promise<readonly TaskLogEntry[]> {
    const limit = query.limit === undefined ? 1000 : Math.ceil(query.limit);
    if (limit <= 0) return [];
    const s = this.#schema;
    const { rows } = await this.#query<LogRow>(
      `SELECT seq, time, level, message FROM ${s}.task_logs
       WHERE task_id = $1 AND seq > $2
         AND EXISTS (SELECT 1 FROM ${s}.tasks WHERE id = $1 AND ${this.#kept(4)})
       ORDER BY seq LIMIT $3`,
      [taskId, query.after ?? 0, Number.isNaN(limit) ? null : limit, this.#horizon()],
      'get-logs',
    );
    return rows.map(rowToLog);
  }

  saveSchedule(schedule: ScheduleRecord): Promise<void> {
    const values = scheduleValues(schedule);
    const s = this.#schema;
    return this.#write(async (client) => {
      await client.query({
        name: `${s}:save-schedule`,
        text: `INSERT INTO ${s}.schedules (id, plugin_id, delay_seconds, repeat_seconds, cron, time_zone,
                 next_run_at, last_run_at, last_task_ids, last_state, runs, created_at, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::json, $10, $11, $12, $13)
               ON CONFLICT (id) DO UPDATE SET plugin_id = EXCLUDED.plugin_id,
                 delay_seconds = EXCLUDED.delay_seconds, repeat_seconds = EXCLUDED.repeat_seconds,
                 cron = EXCLUDED.cron, time_zone = EXCLUDED.time_zone, next_run_at = EXCLUDED.next_run_at, last_run_at = EXCLUDED.last_run_at,
                 last_task_ids = EXCLUDED.last_task_ids, last_state = EXCLUDED.last_state, runs = EXCLUDED.runs,
                 created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at`,
        values,
      });
    });
  }

  async getSchedule(id: string): Promise<ScheduleRecord | undefined> {
    const { rows } = await this.#query<ScheduleRow>(
      `SELECT * FROM ${this.#schema}.schedules WHERE id = $1`,
      [id],
      'get-schedule',
    );
    return rows[0] ? rowToSchedule(rows[0]) : undefined;
  }

  async listSchedules(): Promise<readonly ScheduleRecord[]> {
    const { rows } = await this.#query<ScheduleRow>(
      `SELECT * FROM ${this.#schema}.schedules ORDER BY saved_order`,
      [],
    );
    return rows.map(rowToSchedule);
  }

  deleteSchedule(id: string): Promise<void> {
    return this.#write(async (client) => {
      await client.query(`DELETE FROM ${this.#schema}.schedules WHERE id = $1`, [id]);
    });
  }

  savePluginEntry(entry: PluginCatalogueEntry): Promise<void> {
    const values = pluginValues(entry);
    const s = this.#schema;
    return this.#write(async (client) => {
      await client.query({
        name: `${s}:save-plugin`,
        text: `INSERT INTO ${s}.plugins (id, enabled, last_status, last_reason, first_seen_at, last_seen_at)
               VALUES ($1, $2, $3, $4, $5, $6)
               ON CONFLICT (id) DO UPDATE SET enabled = EXCLUDED.enabled, last_status = EXCLUDED.last_status,
                 last_reason = EXCLUDED.last_reason, first_seen_at = EXCLUDED.first_seen_at,
                 last_seen_at = EXCLUDED.last_seen_at`,
        values,
      });
    });
  }

  async getPluginEntry(id: string): Promise<PluginCatalogueEntry | undefined> {
    const { rows } = await this.#query<PluginRow>(
      `SELECT * FROM ${this.#schema}.plugins WHERE id = $1`,
      [id],
      'get-plugin',
    );
    return rows[0] ? rowToPlugin(rows[0]) : undefined;
  }

  async listPluginEntries(): Promise<readonly PluginCatalogueEntry[]> {
    const { rows } = await this.#query<PluginRow>(
      `SELECT * FROM ${this.#schema}.plugins ORDER BY saved_order`,
      [],
    );
    return rows.map(rowToPlugin);
  }

  /**
   * Claims an idempotency key in one statement: the INSERT takes a free key, and its conflicting UPDATE takes over
   * a key that expired or whose pending claim was abandoned. Concurrent claims of one key, from this process or
   * another, wait on the row's lock, so exactly one of them stores its record; the others read it back.
   */
  async claimIdempotencyKey(
    record: IdempotencyRecord,
    reclaimPendingBefore: number,
  ): Promise<IdempotencyRecord> {
    const s = this.#schema;
    const sweep = ++this.#claimsSinceKeySweep >= KEY_SWEEP_EVERY;
    if (sweep) this.#claimsSinceKeySweep = 0;
    let held: IdempotencyRecord | undefined;
    await this.#write(async (client) => {
      // A batch that failed runs its writes again one by one: this claim starts over.
      held = undefined;
      if (sweep) {
        await client.query({
          name: `${s}:evict-idempotency-keys`,
          text: `DELETE FROM ${s}.idempotency_keys WHERE expires_at <= $1`,
          values: [record.createdAt],
        });
      }
      for (let attempt = 0; attempt < CLAIM_ATTEMPTS && !held; attempt++) {
        const claimed = await client.query<IdempotencyRow>({
          name: `${s}:claim-idempotency-key`,
          text: `INSERT INTO ${s}.idempotency_keys AS k
                   (key, claim_id, plugin_id, fingerprint, task_ids, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5::json, $6, $7)
                 ON CONFLICT (key) DO UPDATE SET claim_id = EXCLUDED.claim_id, plugin_id = EXCLUDED.plugin_id,
                   fingerprint = EXCLUDED.fingerprint, task_ids = EXCLUDED.task_ids,
                   created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
                 WHERE k.expires_at <= EXCLUDED.created_at
                   OR (k.task_ids IS NULL AND k.created_at < $8)
                 RETURNING k.key`,
          values: [...idempotencyValues(record), reclaimPendingBefore],
        });
        if (claimed.rowCount) {
          held = record;
          break;
        }
        // The key is held: the conflicting row is committed (the INSERT waited for it), so a new statement sees it.
        const { rows } = await client.query<IdempotencyRow>({
          name: `${s}:get-idempotency-key`,
          text: `SELECT key, claim_id, plugin_id, fingerprint, task_ids, created_at, expires_at
                 FROM ${s}.idempotency_keys WHERE key = $1`,
          values: [record.key],
        });
        if (rows[0]) held = rowToIdempotency(rows[0]);
      }
    });
    if (!held) {
      throw new PlugboardError(
        'PLUGBOARD_STORE_UNAVAILABLE',
        `The PostgreSQL store (schema \`${s}\`) could not claim an idempotency key: it was claimed and released again ${CLAIM_ATTEMPTS} times while this claim tried.`,
        { details: { schema: s } },
      );
    }
    return held;
  }

  /** Records the tasks of the claim `claimId`, or with `null` releases its key; another claim's entry stays. */
  settleIdempotencyKey(key: string, claimId: string, taskIds: readonly string[] | null): Promise<void> {
    const s = this.#schema;
    return this.#write(async (client) => {
      if (taskIds === null) {
        await client.query({
          name: `${s}:release-idempotency-key`,
          text: `DELETE FROM ${s}.idempotency_keys WHERE key = $1 AND claim_id = $2`,
          values: [key, claimId],
        });
      } else {
        await client.query({
          name: `${s}:settle-idempotency-key`,
          text: `UPDATE ${s}.idempotency_keys SET task_ids = $3::json WHERE key = $1 AND claim_id = $2`,
          values: [key, claimId, JSON.stringify(taskIds)],
        });
      }
    });
  }

  /** Queues a write for the next batch; rejects with `PLUGBOARD_STORE_UNAVAILABLE` when it cannot commit. */
  #write(step: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    const batch = this.#batch;
    if (!batch) return Promise.reject(this.#notOpen());
    return batch.add(step).catch((error: unknown) => {
      throw this.#unavailable('could not be written', error);
    });
  }

  /** Commits queued writes, then reads, so a read sees every write made before it. */
  async #query<R extends pg.QueryResultRow>(
    text: string,
    values: unknown[],
    name?: string,
  ): Promise<pg.QueryResult<R>> {
    const pool = this.#pool;
    const batch = this.#batch;
    if (!pool || !batch) throw this.#notOpen();
    await batch.flush();
    try {
      return await pool.query<R>(name ? { name: `${this.#schema}:${name}`, text, values } : { text, values });
    } catch (error) {
      throw this.#unavailable('could not be read', error);
    }
  }

  /** Retention and notifications, run after every commit. */
  async #afterCommit(client: pg.PoolClient): Promise<void> {
    const s = this.#schema;
    if (this.#finishedInBatch) {
      this.#finishedInBatch = false;
      await client.query({
        name: `${s}:evict-overflow`,
        text: `DELETE FROM ${s}.tasks WHERE retired_seq <= (
                 SELECT retired_seq FROM ${s}.tasks WHERE retired_seq IS NOT NULL
                 ORDER BY retired_seq DESC OFFSET $1 LIMIT 1)`,
        values: [this.#options.maxFinishedTasks],
      });
    }
    const now = Date.now();
    if (now - this.#lastSweep >= EXPIRY_SWEEP_MS) {
      this.#lastSweep = now;
      await client.query({
        name: `${s}:evict-expired`,
        text: `DELETE FROM ${s}.tasks WHERE retired_at <= $1`,
        values: [this.#horizon()],
      });
    }
    await this.shared.afterCommit(client);
  }

  /** A short name for a prepared statement, the same for the same text. */
  #statementName(text: string): string {
    let name = this.#statementNames.get(text);
    if (name === undefined) {
      name = `${this.#schema}:update-${this.#statementNames.size}`;
      this.#statementNames.set(text, name);
    }
    return name;
  }

  /** Finished tasks that finished at or before this time are expired. */
  #horizon(): number {
    return this.#options.now() - this.#options.maxFinishedAgeMs;
  }

  /** The condition that leaves out expired tasks not yet deleted; `$n` is the horizon. */
  #kept(n: number): string {
    return `(retired_at IS NULL OR retired_at > $${n})`;
  }

  #notOpen(): PlugboardError {
    return new PlugboardError(
      'PLUGBOARD_STORE_UNAVAILABLE',
      `The PostgreSQL store (schema \`${this.#schema}\`) is not open: host.start() opens it (or call store.open()).`,
    );
  }

  #unavailable(what: string, error: unknown): PlugboardError {
    if (isPlugboardError(error)) return error;
    const reason = error instanceof Error ? error.message : String(error);
    const hint = isConnectionFault(error)
      ? ' Check that the database is up and reachable; the store reconnects.'
      : '';
    return new PlugboardError(
      'PLUGBOARD_STORE_UNAVAILABLE',
      `The PostgreSQL store (schema \`${this.#schema}\`) ${what}: ${reason}.${hint}`,
      { cause: error, details: { schema: this.#schema } },
    );
  }
}

/** Creates a {@link TaskStore} on PostgreSQL, for several host processes sharing one database. */
export function postgresStore(options: PostgresStoreOptions): PostgresTaskStore {
  return new PostgresTaskStore(options);
}
