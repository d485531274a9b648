import type { LogLevel, ScheduleRecord, TaskLogEntry, TaskProgressEvent, TaskRecord } from '@plugboard/core';
import type { TraceCarrier } from '@plugboard/core/spi';

/**
 * One change to a task, as carried on the queue's update stream from the process that made it to every API
 * process. Applied in stream order, the updates rebuild exactly what the in-process runtime writes and emits.
 */
export type TaskUpdate =
  /** An API process queued a task; other API processes learn of it. */
  | { readonly type: 'queued'; readonly origin: string; readonly record: TaskRecord }
  /** A store write of the running attempt (state, progress, status text, log count). */
  | { readonly type: 'patch'; readonly id: string; readonly patch: Partial<TaskRecord> }
  /** A batch of log lines; API processes store them and emit one `task:log` per line. */
  | {
      readonly type: 'logs';
      readonly id: string;
      readonly pluginId: string;
      readonly userId: string;
      readonly entries: readonly TaskLogEntry[];
    }
  /**
   * An attempt started. Workers send what changed (`id` and `patch`: state, attempt and times), since every API
   * process holds the record from the task's `queued` update or its shared store; one that does not reads it from
   * the task's job.
   */
  | { readonly type: 'started'; readonly id: string; readonly patch: Partial<TaskRecord> }
  | { readonly type: 'progress'; readonly event: TaskProgressEvent }
  /** The attempt failed and another is due after the backoff: the record is `queued` with the next attempt. */
  | { readonly type: 'retry'; readonly record: TaskRecord }
  /**
   * A task ended. A worker whose attempt ran sends the end as a patch (as `started`); a task that ended without
   * running (cancelled in the queue, given up after a stall) goes out as its full record.
   */
  | { readonly type: 'finished'; readonly id: string; readonly patch: Partial<TaskRecord> }
  | { readonly type: 'finished'; readonly record: TaskRecord }
  /**
   * An API process ran a firing of a shared schedule (or skipped it while the last run was unfinished): other API
   * processes store the schedule as it stored it, and emit `schedule:fired` when it fired.
   */
  | {
      readonly type: 'schedule';
      readonly origin: string;
      readonly schedule: ScheduleRecord;
      readonly fired: boolean;
    };

/** The host settings that govern how a task executes, shipped with each job so workers apply the API's. */
export interface ExecutionSettings {
  readonly logLevel: LogLevel;
  readonly maxLogLineLength: number;
  readonly progressIntervalMs: number;
}

/**
 * What a worker completes a job with: the task's end as a patch of the job's record (`endPatch`), so the end is
 * not carried twice over Redis: the job's record with this patch applied is the task's final record.
 */
export type TaskJobResult = Partial<TaskRecord>;

/** What a BullMQ job carries: the task's record and the settings it runs under. */
export interface TaskJobData {
  readonly record: TaskRecord;
  readonly settings: ExecutionSettings;
  /** How often a worker held the task back for a slot of its plugin; the wait before asking again grows with it. */
  readonly slotRefusals?: number;
  /** The trace context of the call that queued the task: the worker's attempt spans are its children. */
  readonly trace?: TraceCarrier;
}

/** The stream entry field the JSON-encoded batch of updates is kept in. */
export const UPDATE_FIELD = 'u';

/** The most update stream entries kept; older ones are trimmed (approximately, which is cheap for Redis). */
export const STREAM_MAX_LENGTH = 10_000;

/**
 * BullMQ runs lower numbers first (1 is the highest priority) and takes unprioritised jobs before all prioritised
 * ones, while Plugboard runs higher numbers first and allows negatives: every job gets a priority, centred here.
 */
export function bullmqPriority(priority: number): number {
  const centre = 1_000_000;
  return Math.min(2_097_152, Math.max(1, Math.round(centre - priority)));
}

/**
 * The final record of a task whose job a worker completed (its record with the end the worker returned), or
 * `undefined` while the job has not completed.
 */
export function completedRecord(job: {
  readonly data: TaskJobData;
  readonly returnvalue: TaskJobResult | null | undefined;
  readonly finishedOn?: number;
}): TaskRecord | undefined {
  const end = job.returnvalue;
  if (!job.finishedOn || !end || typeof end !== 'object') return undefined;
  return { ...job.data.record, ...end } as TaskRecord;
}
