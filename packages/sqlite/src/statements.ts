import type BetterSqlite3 from 'better-sqlite3';
import { TASK_COLUMNS } from './rows.js';

const taskColumns = [...TASK_COLUMNS, 'retired_at', 'retired_seq'];
const taskUpdates = taskColumns
  .filter((c) => c !== 'id')
  .map((c) => `${c} = excluded.${c}`)
  .join(', ');

/** The SQL of the store's fixed statements. */
const SQL = {
  upsertTask: `INSERT INTO tasks (${taskColumns.join(', ')}) VALUES (${taskColumns.map((c) => `@${c}`).join(', ')})
       ON CONFLICT (id) DO UPDATE SET ${taskUpdates}`,
  // Positional: binding the values by position is cheaper than by name, and this runs once per task.
  insertNewTask: `INSERT INTO tasks (${taskColumns.join(', ')}) VALUES (${taskColumns.map(() => '?').join(', ')})
       ON CONFLICT (id) DO NOTHING`,
  getTask: `SELECT ${TASK_COLUMNS.join(', ')} FROM tasks WHERE id = ?`,
  getTaskRetention: 'SELECT state, retired_at, retired_seq FROM tasks WHERE id = ?',
  listUnfinished: `SELECT ${TASK_COLUMNS.join(', ')} FROM tasks WHERE state IN ('queued', 'running') ORDER BY id`,
  lastRetiredSeq: 'SELECT coalesce(max(retired_seq), 0) AS seq FROM tasks WHERE retired_seq IS NOT NULL',
  countRetired: 'SELECT count(*) AS count FROM tasks WHERE retired_seq IS NOT NULL',
  evictOldestRetired: `DELETE FROM tasks WHERE id IN
         (SELECT id FROM tasks WHERE retired_seq IS NOT NULL ORDER BY retired_seq LIMIT ?)`,
  anyExpired: 'SELECT 1 FROM tasks WHERE retired_at IS NOT NULL AND retired_at <= ? LIMIT 1',
  evictExpired: 'DELETE FROM tasks WHERE retired_at IS NOT NULL AND retired_at <= ?',

  insertLog: `INSERT INTO task_logs (task_id, seq, time, level, message) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (task_id, seq) DO NOTHING`,
  advanceLogCount: 'UPDATE tasks SET log_count = max(log_count, ?) WHERE id = ?',
  trimLogs: `DELETE FROM task_logs WHERE task_id = @task AND seq <=
         (SELECT seq FROM task_logs WHERE task_id = @task ORDER BY seq DESC LIMIT 1 OFFSET @keep)`,
  getLogs:
    'SELECT seq, time, level, message FROM task_logs WHERE task_id = ? AND seq > ? ORDER BY seq LIMIT ?',

  saveSchedule: `INSERT INTO schedules (id, plugin_id, delay_seconds, repeat_seconds, cron, time_zone, next_run_at,
         last_run_at, last_task_ids, last_state, runs, created_at, updated_at)
       VALUES (@id, @plugin_id, @delay_seconds, @repeat_seconds, @cron, @time_zone, @next_run_at, @last_run_at,
         @last_task_ids, @last_state, @runs, @created_at, @updated_at)
       ON CONFLICT (id) DO UPDATE SET plugin_id = excluded.plugin_id, delay_seconds = excluded.delay_seconds,
         repeat_seconds = excluded.repeat_seconds, cron = excluded.cron, time_zone = excluded.time_zone,
         next_run_at = excluded.next_run_at,
         last_run_at = excluded.last_run_at, last_task_ids = excluded.last_task_ids,
         last_state = excluded.last_state, runs = excluded.runs, created_at = excluded.created_at,
         updated_at = excluded.updated_at`,
  getSchedule: 'SELECT * FROM schedules WHERE id = ?',
  // Rowid order is first-save order, as an upsert keeps the row: the order the memory store lists in.
  listSchedules: 'SELECT * FROM schedules ORDER BY rowid',
  deleteSchedule: 'DELETE FROM schedules WHERE id = ?',

  getIdempotencyKey: 'SELECT * FROM idempotency_keys WHERE key = ?',
  putIdempotencyKey: `INSERT OR REPLACE INTO idempotency_keys (key, claim_id, plugin_id, fingerprint, task_ids,
         created_at, expires_at) VALUES (@key, @claim_id, @plugin_id, @fingerprint, @task_ids, @created_at, @expires_at)`,
  settleIdempotencyKey: 'UPDATE idempotency_keys SET task_ids = ? WHERE key = ? AND claim_id = ?',
  releaseIdempotencyKey: 'DELETE FROM idempotency_keys WHERE key = ? AND claim_id = ?',
  evictExpiredIdempotencyKeys: 'DELETE FROM idempotency_keys WHERE expires_at <= ?',

  savePlugin: `INSERT INTO plugins (id, enabled, last_status, last_reason, first_seen_at, last_seen_at)
       VALUES (@id, @enabled, @last_status, @last_reason, @first_seen_at, @last_seen_at)
       ON CONFLICT (id) DO UPDATE SET enabled = excluded.enabled, last_status = excluded.last_status,
         last_reason = excluded.last_reason, first_seen_at = excluded.first_seen_at,
         last_seen_at = excluded.last_seen_at`,
  getPlugin: 'SELECT * FROM plugins WHERE id = ?',
  listPlugins: 'SELECT * FROM plugins ORDER BY rowid',
} as const;

/** The prepared statements of one connection. */
export type Statements = { readonly [K in keyof typeof SQL]: BetterSqlite3.Statement };

/** Prepares the store's fixed statements, once per connection. */
export function prepareStatements(db: BetterSqlite3.Database): Statements {
  return Object.fromEntries(
    Object.entries(SQL).map(([name, sql]) => [name, db.prepare(sql)]),
  ) as unknown as Statements;
}
