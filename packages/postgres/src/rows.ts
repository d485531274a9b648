import type {
  PlugboardUser,
  PluginStatus,
  ScheduleRecord,
  TaskLogEntry,
  TaskRecord,
  TaskState,
} from '@plugboard/core';
import type { IdempotencyRecord, PluginCatalogueEntry } from '@plugboard/core/spi';

/** The task columns written from a record, in the order of {@link taskValues}. */
export const TASK_COLUMNS = [
  'id',
  'plugin_id',
  'task_type',
  'user_id',
  'state',
  'input',
  '"user"',
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
] as const;

/** The SQL type of each of {@link TASK_COLUMNS}, for the casts of a parameter list. */
export const TASK_COLUMN_TYPES = [
  'text',
  'text',
  'text',
  'text',
  'text',
  'json',
  'json',
  'float8',
  'text',
  'text',
  'float8',
  'float8',
  'float8',
  'json',
  'json',
  'int4',
  'int4',
  'int4',
  'float8',
  'text',
  'text',
  'int4',
  'text',
  'text',
] as const;

/** JSON text of a value; `null` (SQL NULL) for `undefined`, so an absent `result` stays absent. */
export function json(value: unknown): string | null {
  return value === undefined ? null : (JSON.stringify(value) ?? null);
}

/** PostgreSQL text cannot hold NUL characters: they are stored as U+FFFD. */
export function text(value: string | null): string | null {
  return value === null || !value.includes('\u0000') ? value : value.replaceAll('\u0000', '\uFFFD');
}

/** The column values of a record, in {@link TASK_COLUMNS} order; throws when a JSON field cannot be serialised. */
export function taskValues(record: TaskRecord): unknown[] {
  return [
    record.id,
    record.pluginId,
    record.taskType,
    record.user.id,
    record.state,
    json(record.input),
    JSON.stringify(record.user),
    record.progress,
    text(record.progressMessage),
    text(record.statusText),
    record.createdAt,
    record.startedAt,
    record.finishedAt,
    json(record.result),
    json(record.error ?? null),
    record.attempt,
    record.maxAttempts,
    record.priority,
    record.timeoutMs,
    record.scheduleId,
    record.contextId,
    record.logCount,
    record.parentId ?? null,
    text(record.waitingReason ?? null),
  ];
}

/** What `updateTask` writes for each record field it is given: the column and the value. */
export const PATCH_COLUMNS: Readonly<
  Record<string, (value: unknown) => readonly [string, string, unknown][]>
> = {
  pluginId: (v) => [['plugin_id', 'text', v]],
  taskType: (v) => [['task_type', 'text', v]],
  input: (v) => [['input', 'json', json(v)]],
  user: (v) => [
    ['"user"', 'json', JSON.stringify(v)],
    ['user_id', 'text', (v as PlugboardUser).id],
  ],
  state: (v) => [['state', 'text', v]],
  progress: (v) => [['progress', 'float8', v]],
  progressMessage: (v) => [['progress_message', 'text', text(v as string | null)]],
  statusText: (v) => [['status_text', 'text', text(v as string | null)]],
  createdAt: (v) => [['created_at', 'float8', v]],
  startedAt: (v) => [['started_at', 'float8', v]],
  finishedAt: (v) => [['finished_at', 'float8', v]],
  result: (v) => [['result', 'json', json(v)]],
  error: (v) => [['error', 'json', JSON.stringify(v ?? null)]],
  attempt: (v) => [['attempt', 'int4', v]],
  maxAttempts: (v) => [['max_attempts', 'int4', v]],
  priority: (v) => [['priority', 'int4', v]],
  timeoutMs: (v) => [['timeout_ms', 'float8', v]],
  scheduleId: (v) => [['schedule_id', 'text', v]],
  contextId: (v) => [['context_id', 'text', v]],
  logCount: (v) => [['log_count', 'int4', v]],
  parentId: (v) => [['parent_id', 'text', v ?? null]],
  waitingReason: (v) => [['waiting_reason', 'text', text((v as string | null) ?? null)]],
};

/**
 * The columns a task is read with. `input` and `result` come as JSON text: parsed by `pg`, a JSON `null` and an
 * SQL NULL (no value) would look the same.
 */
export const TASK_SELECT = TASK_COLUMNS.map((c) =>
  c === 'input' || c === 'result' ? `${c}::text AS ${c}` : c,
).join(', ');

/** A `tasks` row as read with {@link TASK_SELECT}. */
export interface TaskRow {
  id: string;
  plugin_id: string;
  task_type: string;
  user_id: string;
  state: string;
  input: string | null;
  user: PlugboardUser;
  progress: number;
  progress_message: string | null;
  status_text: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  result: string | null;
  error: unknown;
  attempt: number;
  max_attempts: number;
  priority: number;
  timeout_ms: string | null;
  schedule_id: string | null;
  context_id: string | null;
  log_count: number;
  parent_id: string | null;
  waiting_reason: string | null;
}

function int(value: string | number): number {
  return typeof value === 'number' ? value : Number(value);
}

function intOrNull(value: string | number | null): number | null {
  return value === null ? null : int(value);
}

/** Rebuilds a record from its row. */
export function rowToTask(row: TaskRow): TaskRecord {
  const record: { -readonly [K in keyof TaskRecord]: TaskRecord[K] } = {
    id: row.id,
    pluginId: row.plugin_id,
    taskType: row.task_type,
    // SQL NULL is an input that was `undefined`; JSON `null` arrives as the text `null`.
    input: row.input === null ? undefined : JSON.parse(row.input),
    user: row.user,
    state: row.state as TaskState,
    progress: row.progress,
    progressMessage: row.progress_message,
    statusText: row.status_text,
    createdAt: int(row.created_at),
    startedAt: intOrNull(row.started_at),
    finishedAt: intOrNull(row.finished_at),
    error: (row.error ?? null) as TaskRecord['error'],
    attempt: row.attempt,
    maxAttempts: row.max_attempts,
    priority: row.priority,
    timeoutMs: intOrNull(row.timeout_ms),
    scheduleId: row.schedule_id,
    contextId: row.context_id,
    logCount: row.log_count,
  };
  if (row.result !== null) record.result = JSON.parse(row.result);
  // Absent rather than `null` when unset, as records are written without them.
  if (row.parent_id !== null) record.parentId = row.parent_id;
  if (row.waiting_reason !== null) record.waitingReason = row.waiting_reason;
  return record;
}

/** A `task_logs` row. */
export interface LogRow {
  seq: number;
  time: string;
  level: string;
  message: string;
}

/** Rebuilds a log line from its row. */
export function rowToLog(row: LogRow): TaskLogEntry {
  return {
    seq: row.seq,
    time: int(row.time),
    level: row.level as TaskLogEntry['level'],
    message: row.message,
  };
}

/** A `schedules` row. */
export interface ScheduleRow {
  id: string;
  plugin_id: string;
  delay_seconds: number;
  repeat_seconds: number;
  cron: string | null;
  time_zone: string | null;
  next_run_at: string | null;
  last_run_at: string | null;
  last_task_ids: string[];
  last_state: string | null;
  runs: number;
  created_at: string;
  updated_at: string;
}

/** The parameters of a schedule, in the column order of the store's upsert. */
export function scheduleValues(schedule: ScheduleRecord): unknown[] {
  return [
    schedule.id,
    schedule.pluginId,
    schedule.delaySeconds,
    schedule.repeatSeconds,
    schedule.cron ?? null,
    schedule.cron ? (schedule.timeZone ?? null) : null,
    schedule.nextRunAt,
    schedule.lastRunAt,
    JSON.stringify(schedule.lastTaskIds),
    schedule.lastState,
    schedule.runs,
    schedule.createdAt,
    schedule.updatedAt,
  ];
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
    nextRunAt: intOrNull(row.next_run_at),
    lastRunAt: intOrNull(row.last_run_at),
    lastTaskIds: row.last_task_ids,
    lastState: row.last_state as TaskState | null,
    runs: row.runs,
    createdAt: int(row.created_at),
    updatedAt: int(row.updated_at),
  };
}

/** A `plugins` row. */
export interface PluginRow {
  id: string;
  enabled: boolean;
  last_status: string | null;
  last_reason: string | null;
  first_seen_at: string;
  last_seen_at: string;
}

/** The parameters of a catalogue entry, in the column order of the store's upsert. */
export function pluginValues(entry: PluginCatalogueEntry): unknown[] {
  return [entry.id, entry.enabled, entry.lastStatus, entry.lastReason, entry.firstSeenAt, entry.lastSeenAt];
}

/** Rebuilds a catalogue entry from its row. */
export function rowToPlugin(row: PluginRow): PluginCatalogueEntry {
  return {
    id: row.id,
    enabled: row.enabled,
    lastStatus: row.last_status as PluginStatus | null,
    lastReason: row.last_reason,
    firstSeenAt: int(row.first_seen_at),
    lastSeenAt: int(row.last_seen_at),
  };
}

/** An `idempotency_keys` row. */
export interface IdempotencyRow {
  key: string;
  claim_id: string;
  plugin_id: string;
  fingerprint: string;
  task_ids: string[] | null;
  created_at: string | number;
  expires_at: string | number;
}

/** The parameters of an idempotency key, in the column order of the store's claim. */
export function idempotencyValues(record: IdempotencyRecord): unknown[] {
  return [
    record.key,
    record.claimId,
    record.pluginId,
    record.fingerprint,
    record.taskIds === null ? null : JSON.stringify(record.taskIds),
    record.createdAt,
    record.expiresAt,
  ];
}

/** Rebuilds an idempotency key from its row. */
export function rowToIdempotency(row: IdempotencyRow): IdempotencyRecord {
  return {
    key: row.key,
    claimId: row.claim_id,
    pluginId: row.plugin_id,
    fingerprint: row.fingerprint,
    taskIds: row.task_ids,
    createdAt: int(row.created_at),
    expiresAt: int(row.expires_at),
  };
}
