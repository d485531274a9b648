import type { ScheduleRecord } from '@plugboard/core';
import type { RuntimeEnvironment, RuntimeScheduleRequest, RuntimeScheduleState } from '@plugboard/core/spi';
import { type Job, type JobSchedulerJson, Queue, Worker } from 'bullmq';
import { closeOrDrop, type RedisConnection } from './redis-connection.js';

/** What each firing job of a schedule's job scheduler carries. */
export interface ScheduleJobData {
  readonly scheduleId: string;
  readonly delaySeconds: number;
  readonly repeatSeconds: number;
  /** The cron expression of a cron schedule, which BullMQ's scheduler fires on (as `pattern`). */
  readonly cron?: string;
  /** The IANA time zone of `cron` (BullMQ's `tz`). */
  readonly timeZone?: string;
}

/** BullMQ needs an interval even for a schedule that runs once; `limit: 1` ends it after the first firing. */
const RUN_ONCE_EVERY_MS = 86_400_000;
const PENDING_STATES = new Set(['delayed', 'waiting', 'wait', 'prioritized', 'active']);

/**
 * Background-task schedules kept as BullMQ job schedulers, one per schedule under its stable id (the plugin id),
 * on a queue of their own beside the task queue. Every API process sharing the queue arms the same schedulers, so
 * a restart or a second API process replaces or keeps a schedule instead of adding one; each firing is taken by one
 * of the API processes, whose host creates and queues the tasks.
 */
export class JobSchedules {
  readonly #queue: Queue<ScheduleJobData>;
  readonly #worker: Worker<ScheduleJobData>;

  /**
   * Opens the schedules queue `name` and starts taking firings; `fired` is told of each firing this process took,
   * with the schedule as this host stored it afterwards and whether it ran (false: skipped, the last run was
   * unfinished).
   */
  constructor(
    options: { connection: RedisConnection; prefix: string; name: string },
    env: RuntimeEnvironment,
    fired: (schedule: ScheduleRecord, ran: boolean) => Promise<void>,
  ) {
    const { connection, prefix, name } = options;
    this.#queue = new Queue<ScheduleJobData>(name, { connection, prefix });
    this.#queue.on('error', (error) => env.reportError(error));
    this.#worker = new Worker<ScheduleJobData>(
      name,
      async (job) => {
        // An unknown schedule (its plugin is not on this API process) rejects, and BullMQ retries the firing
        // where it may be known.
        const before = await env.store.getSchedule(job.data.scheduleId);
        const schedule = await env.fireSchedule(job.data.scheduleId, dueAt(job));
        await fired(schedule, schedule.runs > (before?.runs ?? 0));
      },
      { connection, prefix, concurrency: 4 },
    );
    this.#worker.on('error', (error) => env.reportError(error));
  }

  /** Resolves once both connections are ready. */
  async ready(): Promise<void> {
    await Promise.all([this.#queue.waitUntilReady(), this.#worker.waitUntilReady()]);
  }

  /** Arms a schedule as a job scheduler, or keeps the one held under its id when `replaceExisting` is false. */
  async arm(request: RuntimeScheduleRequest): Promise<RuntimeScheduleState> {
    const held = await this.#queue.getJobScheduler(request.id);
    if (held && !request.replaceExisting) return this.#state(held);
    // Removing first makes the new delay count from now: an upsert with the same interval keeps the old cadence.
    if (held) await this.#queue.removeJobScheduler(request.id);
    const cron = request.cron ? { cron: request.cron, timeZone: request.timeZone ?? 'UTC' } : undefined;
    const requested = {
      delaySeconds: request.delaySeconds,
      repeatSeconds: request.repeatSeconds,
      ...cron,
    };
    if (request.firstRunAt === null) return { ...requested, nextRunAt: null };
    const once = request.repeatSeconds <= 0;
    await this.#queue.upsertJobScheduler(
      request.id,
      // A cron schedule fires on BullMQ's own reading of the expression, in one of the processes sharing the queue.
      cron
        ? { pattern: cron.cron, tz: cron.timeZone }
        : {
            every: once ? RUN_ONCE_EVERY_MS : Math.max(1, Math.round(request.repeatSeconds * 1000)),
            startDate: Math.max(Date.now(), Math.round(request.firstRunAt)),
            ...(once ? { limit: 1 } : {}),
          },
      {
        name: 'fire',
        data: { scheduleId: request.id, ...requested },
        opts: {
          attempts: 3,
          backoff: { type: 'fixed', delay: 1000 },
          removeOnComplete: { count: 100 },
          removeOnFail: { count: 100 },
        },
      },
    );
    const armed = await this.#queue.getJobScheduler(request.id);
    return armed ? this.#state(armed) : { ...requested, nextRunAt: null };
  }

  /**
   * Stops taking firings (waiting for the ones in progress) and closes the connections; after `ms` without Redis
   * answering, drops them.
   */
  async close(ms: number): Promise<void> {
    await closeOrDrop(
      [this.#worker.close(), this.#queue.close()],
      () => [this.#worker.close(true), this.#queue.disconnect()],
      ms,
    );
  }

  async #state(held: JobSchedulerJson<ScheduleJobData>): Promise<RuntimeScheduleState> {
    const data = held.template?.data;
    const repeatSeconds = data?.repeatSeconds ?? (held.limit === undefined ? (held.every ?? 0) / 1000 : 0);
    let nextRunAt = held.next ?? null;
    if (held.limit !== undefined && nextRunAt !== null) {
      // A schedule that runs once keeps its due time after firing: it is still ahead only while its job waits.
      const job = await this.#queue.getJob(`repeat:${held.key}:${nextRunAt}`);
      if (!job || !PENDING_STATES.has(await job.getState())) nextRunAt = null;
    }
    const cron = held.pattern ? { cron: held.pattern, timeZone: held.tz ?? data?.timeZone ?? 'UTC' } : {};
    return {
      delaySeconds: data?.delaySeconds ?? 0,
      repeatSeconds: held.pattern ? 0 : repeatSeconds,
      nextRunAt,
      ...cron,
    };
  }
}

/** The due time of a firing: BullMQ names each scheduler job `repeat:<scheduler id>:<due ms>`. */
function dueAt(job: Job<ScheduleJobData>): number {
  const due = Number(job.id?.slice(job.id.lastIndexOf(':') + 1));
  return Number.isFinite(due) && due > 0 ? due : job.timestamp + (job.opts.delay ?? 0);
}
