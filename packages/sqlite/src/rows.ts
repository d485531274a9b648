import type {
  PlugboardUser,
  PluginStatus,
  ScheduleRecord,
  TaskErrorInfo,
  TaskLogEntry,
  TaskRecord,
  TaskState,
} from '@plugboard/core';
import type { IdempotencyRecord, PluginCatalogueEntry } from '@plugboard/core/spi';

/** A `tasks` row as SQLite returns it. */
export interface TaskRow {
  id: string;
  plugin_id: string;
  task_type: string;
  user_id: string;
  state: string;
  input: string | null;
  user: string;
  progress: number;
  progress_message: string | null;
  status_text: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  result: string | null;
  error: string | null;
  attempt: number;
  max_attempts: number;
  priority: number;
  timeout_ms: number | null;
  schedule_id: string | null;
  context_id: string | null;
  log_count: number;
  parent_id: string | null;
  waiting_reason: string | null;
}

/** The columns of a task row that come from the record (retention bookkeeping apart). */
export const TASK_COLUMNS = [
  'id',
  'plugin_id',
  'task_type',
  'user_id',
  'state',
  'input',
  'user',
  'progress',
  'progress_message',
  'status_text',
  'created_at',
  'started_at',
  'finished_at',
  'result',
  'error',
  'attempt',
  'max_attempts',
  'priority',
  'timeout_ms',
  'schedule_id',
  'context_id',
  'log_count',
  'parent_id',
  'waiting_reason',
] as const satisfies readonly (keyof TaskRow)[];

/** JSON text of a value; `null` (SQL NULL) for `undefined`, so an absent `result` stays absent. */
function json(value: unknown): string | null {
  return value === undefined ? null : (JSON.stringify(value) ?? null);
}

function parse(text: string | null): unknown {
  return text === null ? undefined : JSON.parse(text);
}

/** Serialises a record; throws (before anything is queued) when a JSON field cannot be serialised. */
export function taskToRow(record: TaskRecord): TaskRow {
  return {
    id: record.id,
    plugin_id: record.pluginId,
    task_type: record.taskType,
    user_id: record.user.id,
    state: record.state,
    input: json(record.input),
    user: JSON.stringify(record.user),
    progress: record.progress,
    progress_message: record.progressMessage,
    status_text: record.statusText,
    created_at: record.createdAt,
    started_at: record.startedAt,
    finished_at: record.finishedAt,
    result: json(record.result),
    error: json(record.error),
    attempt: record.attempt,
    max_attempts: record.maxAttempts,
    priority: record.priority,
    timeout_ms: record.timeoutMs,
    schedule_id: record.scheduleId,
    context_id: record.contextId,
    log_count: record.logCount,
    parent_id: record.parentId ?? null,
    waiting_reason: record.waitingReason ?? null,
  };
}

/** Rebuilds a record from its row. */
export function rowToTask(row: TaskRow): TaskRecord {
  const record: { -readonly [K in keyof TaskRecord]: TaskRecord[K] } = {
    id: row.id,
    pluginId: row.plugin_id,
    taskType: row.task_type,
    input: parse(row.input),
    user: JSON.parse(row.user) as PlugboardUser,
    state: row.state as TaskState,
    progress: row.progress,
    progressMessage: row.progress_message,
    statusText: row.status_text,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    error: (parse(row.error) as TaskErrorInfo | undefined) ?? null,
    attempt: row.attempt,
    maxAttempts: row.max_attempts,
    priority: row.priority,
    timeoutMs: row.timeout_ms,
    scheduleId: row.schedule_id,
    contextId: row.context_id,
    logCount: row.log_count,
  };
  if (row.result !== null) record.result = parse(row.result);
  // Absent unless set, as on a record that was never a child or held back.
  if (row.parent_id !== null) record.parentId = row.parent_id;
  if (row.waiting_reason !== null) record.waitingReason = row.waiting_reason;
  return record;
}

/** A `task_logs` row. */
export interface LogRow {
  seq: number;
  time: number;
  level: string;
  message: string;
}

/** Rebuilds a log line from its row. */
export function rowToLog(row: LogRow): TaskLogEntry {
  return { seq: row.seq, time: row.time, level: row.level as TaskLogEntry['level'], message: row.message };
}

/** A `schedules` row. */
export interface ScheduleRow {
  id: string;
  plugin_id: string;
  delay_seconds: number;
  repeat_seconds: number;
  cron: string | null;
  time_zone: string | null;
  next_run_at: number | null;
  last_run_at: number | null;
  last_task_ids: string;
  last_state: string | null;
  runs: number;
  created_at: number;
  updated_at: number;
}

/** Serialises a schedule. */
export function scheduleToRow(schedule: ScheduleRecord): ScheduleRow {
  return {
    id: schedule.id,
    plugin_id: schedule.pluginId,
    delay_seconds: schedule.delaySeconds,
    repeat_seconds: schedule.repeatSeconds,
    cron: schedule.cron ?? null,
    time_zone: schedule.cron ? (schedule.timeZone ?? null) : null,
    next_run_at: schedule.nextRunAt,
    last_run_at: schedule.lastRunAt,
    last_task_ids: JSON.stringify(schedule.lastTaskIds),
    last_state: schedule.lastState,
    runs: schedule.runs,
    created_at: schedule.createdAt,
    updated_at: schedule.updatedAt,
  };
}

/** Rebuilds a schedule from its row. */
export function rowToSchedule(row: ScheduleRow): ScheduleRecord {
  return {
    id: row.id,
    pluginId: row.plugin_id,
    delaySeconds: row.delay_seconds,
    repeatSeconds: row.repeat_seconds,
    // A delay and repeat schedule reads back without the cron fields, as it was written before they existed.
    ...(row.cron === null ? {} : { cron: row.cron, timeZone: row.time_zone }),
    nextRunAt: row.next_run_at,
    lastRunAt: row.last_run_at,
    lastTaskIds: JSON.parse(row.last_task_ids) as string[],
    lastState: row.last_state as TaskState | null,
    runs: row.runs,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** A `plugins` row. */
export interface PluginRow {
  id: string;
  enabled: number;
  last_status: string | null;
  last_reason: string | null;
  first_seen_at: number;
  last_seen_at: number;
}

/** Serialises a catalogue entry. */
export function pluginToRow(entry: PluginCatalogueEntry): PluginRow {
  return {
    id: entry.id,
    enabled: entry.enabled ? 1 : 0,
    last_status: entry.lastStatus,
    last_reason: entry.lastReason,
    first_seen_at: entry.firstSeenAt,
    last_seen_at: entry.lastSeenAt,
  };
}

/** Rebuilds a catalogue entry from its row. */
export function rowToPlugin(row: PluginRow): PluginCatalogueEntry {
  return {
    id: row.id,
    enabled: row.enabled === 1,
    lastStatus: row.last_status as PluginStatus | null,
    lastReason: row.last_reason,
    firstSeenAt: row.first_seen_at,
    lastSeenAt: row.last_seen_at,
  };
}

/** An `idempotency_keys` row. */
export interface IdempotencyRow {
  key: string;
  claim_id: string;
  plugin_id: string;
  fingerprint: string;
  task_ids: string | null;
  created_at: number;
  expires_at: number;
}

/** Serialises an idempotency key. */
export function idempotencyToRow(record: IdempotencyRecord): IdempotencyRow {
  return {
    key: record.key,
    claim_id: record.claimId,
    plugin_id: record.pluginId,
    fingerprint: record.fingerprint,
    task_ids: record.taskIds === null ? null : JSON.stringify(record.taskIds),
    created_at: record.createdAt,
    expires_at: record.expiresAt,
  };
}

/** Rebuilds an idempotency key from its row. */
export function rowToIdempotency(row: IdempotencyRow): IdempotencyRecord {
  return {
    key: row.key,
    claimId: row.claim_id,
    pluginId: row.plugin_id,
    fingerprint: row.fingerprint,
    taskIds: row.task_ids === null ? null : (JSON.parse(row.task_ids) as string[]),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}
