import { randomUUID } from 'node:crypto';
import { isFinalState, PlugboardError, type TaskRecord } from '@plugboard/core';
import {
  captureTraceCarrier,
  checkOptionsObject,
  integerOption,
  type RuntimeEnvironment,
  type RuntimeScheduleRequest,
  type RuntimeScheduleState,
  type RuntimeSchedules,
  type RuntimeStopOptions,
  type TaskRuntime,
  type TraceCarrier,
} from '@plugboard/core/spi';
import { type KeepJobs, Queue, QueueEvents, type Telemetry } from 'bullmq';
import type { Redis } from 'ioredis';
import { JobSchedules } from './job-schedules.js';
import { queueTargetOptions, telemetryOption } from './option-checks.js';
import {
  closeOrDrop,
  dedicatedConnection,
  type RedisConnection,
  reachRedis,
  settlesWithin,
} from './redis-connection.js';
import type { PlugboardKeys } from './redis-keys.js';
import type { BullmqRuntimeOptions } from './runtime-options.js';
import {
  bullmqPriority,
  completedRecord,
  STREAM_MAX_LENGTH,
  type TaskJobData,
  type TaskUpdate,
  UPDATE_FIELD,
} from './task-update.js';
import { UpdateApplier } from './update-applier.js';
import { UpdateReader } from './update-reader.js';

/** How long a cancel request waits for a worker to pick its task up, in seconds. */
const CANCEL_FLAG_TTL_SECONDS = 7 * 24 * 3600;
const WAITING_STATES = new Set(['waiting', 'prioritized', 'delayed', 'waiting-children', 'wait']);

interface Connections {
  readonly queue: Queue<TaskJobData>;
  readonly queueEvents: QueueEvents;
  readonly commands: Redis;
  readonly reader: UpdateReader;
  readonly applier: UpdateApplier;
}

/**
 * The API side of the distributed runtime: tasks are added to a BullMQ queue and run by worker processes
 * ({@link createWorker}); their updates come back over Redis and are applied to this host's store and bus, so
 * `host.tasks.*` and `host.events` work as with the in-process runtime.
 */
export class BullmqRuntime implements TaskRuntime {
  readonly name = 'bullmq';
  /** Unfinished tasks live in Redis, not in this process: the host must not re-queue them at start. */
  readonly recoversOwnTasks = true;
  /** Every API process reads the whole update stream: a shared store need not relay task events. */
  readonly deliversEventsEverywhere = true;
  /**
   * Background-task schedules are BullMQ job schedulers under the plugin id, shared by every API process on the
   * queue: a restart or another API process replaces or keeps a schedule, never adds a second one.
   */
  readonly schedules: RuntimeSchedules = { arm: (request) => this.#armSchedule(request) };
  readonly #connection: RedisConnection;
  readonly #queueName: string;
  readonly #prefix: string;
  readonly #keys: PlugboardKeys;
  readonly #keep: KeepJobs;
  readonly #statsIntervalMs: number;
  readonly #connectTimeoutMs: number;
  readonly #telemetry: Telemetry | undefined;
  /** Tells this process's own `queued` updates apart from other API processes'. */
  readonly #origin = randomUUID();
  #env: RuntimeEnvironment | undefined;
  #live: Connections | undefined;
  #stopping = false;
  #counts = { queued: 0, running: 0 };
  #statsTimer: ReturnType<typeof setInterval> | undefined;
  #jobSchedules: Promise<JobSchedules> | undefined;
  /** Tasks queued in this turn of the event loop, added to the queue together in the next. */
  #adding: Array<{
    record: TaskRecord;
    trace: TraceCarrier | undefined;
    resolve: () => void;
    reject: (error: unknown) => void;
  }> = [];

  constructor(options: BullmqRuntimeOptions) {
    const target = queueTargetOptions('bullmqRuntime', options);
    this.#connection = target.connection;
    this.#queueName = target.queueName;
    this.#prefix = target.prefix;
    this.#keys = target.keys;
    if (options.keepFinishedJobs !== undefined) {
      const keep = options.keepFinishedJobs as { age?: unknown; count?: unknown };
      checkOptionsObject('keepFinishedJobs', keep);
      integerOption('keepFinishedJobs.age', keep.age, 0, 0);
      integerOption('keepFinishedJobs.count', keep.count, 0, 0);
      if (keep.age === undefined && keep.count === undefined) {
        throw new PlugboardError(
          'PLUGBOARD_INVALID_OPTION',
          'Expected `keepFinishedJobs` to set `age` (seconds), `count` or both, got neither.',
        );
      }
    }
    this.#keep = options.keepFinishedJobs ?? { age: 86_400, count: 10_000 };
    this.#statsIntervalMs = integerOption('statsIntervalMs', options.statsIntervalMs, 10, 1000);
    this.#connectTimeoutMs = integerOption('connectTimeoutMs', options.connectTimeoutMs, 1, 10_000);
    telemetryOption(options.telemetry);
    this.#telemetry = options.telemetry;
  }

  /** The BullMQ queue name. */
  get queueName(): string {
    return this.#queueName;
  }

  async start(env: RuntimeEnvironment): Promise<void> {
    this.#env = env;
    this.#stopping = false;
    let lastError: Error | undefined;
    const onError = (error: Error) => {
      lastError = error;
      env.reportError(error);
    };
    const reach = (work: Promise<unknown>) =>
      reachRedis(work, { ms: this.#connectTimeoutMs, queue: this.#queueName, lastError: () => lastError });
    const queue = new Queue<TaskJobData>(this.#queueName, {
      connection: this.#connection,
      prefix: this.#prefix,
      ...(this.#telemetry ? { telemetry: this.#telemetry } : {}),
    });
    queue.on('error', onError);
    const commands = dedicatedConnection(this.#connection, onError);
    // A task queued by an API process this one has not heard from: its job holds the record.
    const applier = new UpdateApplier(env, this.#origin, async (id) => (await queue.getJob(id))?.data.record);
    const reader = new UpdateReader(
      dedicatedConnection(this.#connection, onError),
      this.#keys,
      (update) => applier.apply(update),
      (error) => env.reportError(error),
      () => this.#catchUp(),
    );
    try {
      await reach(Promise.all([queue.waitUntilReady(), reader.start(), commands.ping()]));
    } catch (error) {
      await Promise.allSettled([reader.stop(), queue.close()]);
      commands.disconnect();
      throw error;
    }
    // Opened once Redis answers: BullMQ's QueueEvents cannot be closed before its first connection.
    const queueEvents = new QueueEvents(this.#queueName, {
      connection: this.#connection,
      prefix: this.#prefix,
    });
    queueEvents.on('error', onError);
    // Workers never fail a job themselves (every outcome completes it); a failed job is one BullMQ gave up on,
    // such as a job that stalled too often, and nothing else will record it.
    queueEvents.on('failed', ({ jobId, failedReason }) => {
      this.#recordLost(jobId, failedReason).catch((error) => env.reportError(error));
    });
    try {
      await reach(queueEvents.waitUntilReady());
    } catch (error) {
      void queueEvents.close().catch(() => {});
      await Promise.allSettled([reader.stop(), queue.close()]);
      commands.disconnect();
      throw error;
    }
    this.#live = { queue, queueEvents, commands, reader, applier };
    await this.#catchUp();
    await this.#refreshCounts();
    this.#statsTimer = setInterval(() => {
      this.#refreshCounts().catch(() => {});
    }, this.#statsIntervalMs);
    this.#statsTimer.unref?.();
  }

  async enqueue(record: TaskRecord): Promise<void> {
    this.#require();
    if (this.#stopping)
      throw new PlugboardError('PLUGBOARD_HOST_STOPPING', 'The runtime is stopping; no task is accepted.');
    // Tasks queued in one turn of the event loop go out together: one stream entry and one bulk add.
    return new Promise<void>((resolve, reject) => {
      // The caller's trace context (its `execute`'s span) goes with the job, for the worker's attempt spans.
      this.#adding.push({ record, trace: captureTraceCarrier(), resolve, reject });
      if (this.#adding.length === 1) setImmediate(() => this.#addPending());
    });
  }

  /** Sends the tasks queued since the last turn: their `queued` update first, then their jobs. */
  async #addPending(): Promise<void> {
    const batch = this.#adding;
    if (batch.length === 0) return;
    this.#adding = [];
    try {
      const { env, live } = this.#require();
      // The update and the jobs go out on the queue's own connection, so Redis takes the update first (a worker's
      // `started` can never overtake it) without waiting a round trip in between.
      // The queue connection is the ioredis client this runtime created from `connection` (BullMQ's Redis backend
      // hands it out behind a proxy that passes plain commands such as XADD straight to it).
      const client = (await live.queue.getBackend().client) as unknown as Redis;
      const published = this.#addUpdates(
        client,
        batch.map(({ record }) => ({ type: 'queued', origin: this.#origin, record })),
      );
      published.catch(() => {
        // Awaited below; this only keeps an early rejection from being reported as unhandled.
      });
      const settings = {
        logLevel: env.logLevel,
        maxLogLineLength: env.maxLogLineLength,
        progressIntervalMs: env.progressIntervalMs,
      };
      await live.queue.addBulk(
        batch.map(({ record, trace }) => ({
          name: record.taskType,
          data: trace ? { record, settings, trace } : { record, settings },
          opts: {
            jobId: record.id,
            priority: bullmqPriority(record.priority),
            // Retries, with the task type's backoff, are the worker's: it re-delays the same job.
            attempts: 1,
            removeOnComplete: this.#keep,
            removeOnFail: this.#keep,
          },
        })),
      );
      await published;
      this.#counts = { ...this.#counts, queued: this.#counts.queued + batch.length };
    } catch (error) {
      for (const { reject } of batch) reject(error);
      return;
    }
    for (const { resolve } of batch) resolve();
  }

  async cancel(id: string): Promise<boolean> {
    const { env, live } = this.#require();
    const job = await live.queue.getJob(id);
    if (!job) return false;
    const state = await job.getState();
    // Finished already: record the outcome now (its update may still be on its way, or may have been missed), so
    // the host's wait settles either way.
    if (state === 'completed') {
      const record = completedRecord(job);
      if (record) await live.applier.finish(record);
      return true;
    }
    if (state === 'failed') {
      await this.#recordLost(id, job.failedReason);
      return true;
    }
    if (WAITING_STATES.has(state) && (await live.queue.remove(id)) === 1) {
      const cancelled: TaskRecord = {
        ...((await env.store.getTask(id)) ?? job.data.record),
        state: 'cancelled',
        finishedAt: env.now(),
        error: { code: 'PLUGBOARD_TASK_CANCELLED', message: 'The task was cancelled before it ran.' },
      };
      await live.applier.finish(cancelled);
      // Other API processes learn of it as of any finished task.
      await this.#publish(live, { type: 'finished', record: cancelled });
      return true;
    }
    // Running (or taken by a worker since we looked): BullMQ's own cancel reaches only the worker's process, so ask
    // every worker; the flag reaches a worker that picks the task up later, after a stall.
    await live.commands
      .multi()
      .set(this.#keys.cancelFlag(id), '1', 'EX', CANCEL_FLAG_TTL_SECONDS)
      .publish(this.#keys.cancelChannel, id)
      .exec();
    return true;
  }

  /**
   * Stops taking schedule firings and reading updates, and closes the connections (dropping them if Redis does not
   * answer within `connectTimeoutMs`); tasks keep running on the workers, and tasks and schedules stay in Redis.
   */
  async stop(_options: RuntimeStopOptions): Promise<void> {
    this.#stopping = true;
    if (this.#statsTimer) clearInterval(this.#statsTimer);
    this.#statsTimer = undefined;
    const schedules = this.#jobSchedules;
    this.#jobSchedules = undefined;
    await schedules?.then((s) => s.close(this.#connectTimeoutMs)).catch(() => {});
    // Tasks accepted before the stop are added before the connections close.
    if (this.#adding.length > 0 && this.#live)
      await settlesWithin(this.#addPending(), this.#connectTimeoutMs);
    const live = this.#live;
    this.#live = undefined;
    if (!live) return;
    await closeOrDrop(
      [live.reader.stop(), live.queueEvents.close(), live.queue.close()],
      () => [live.queueEvents.disconnect(), live.queue.disconnect()],
      this.#connectTimeoutMs,
    );
    live.commands.disconnect();
  }

  stats(): {
    /** Jobs waiting in the queue (delayed and prioritised ones included), as last counted in Redis. */
    queued: number;
    /** Jobs a worker is running, as last counted in Redis. */
    running: number;
  } {
    return { ...this.#counts };
  }

  async #armSchedule(request: RuntimeScheduleRequest): Promise<RuntimeScheduleState> {
    const { env } = this.#require();
    if (!this.#jobSchedules) {
      // Opened on the first background-task plugin only, so hosts without any take no firings.
      const opening = (async () => {
        const schedules = new JobSchedules(
          { connection: this.#connection, prefix: this.#prefix, name: `${this.#queueName}.schedules` },
          env,
          async (schedule, fired) => {
            const live = this.#live;
            if (live) await this.#publish(live, { type: 'schedule', origin: this.#origin, schedule, fired });
          },
        );
        await schedules.ready();
        return schedules;
      })();
      this.#jobSchedules = opening;
      opening.catch(() => {
        if (this.#jobSchedules === opening) this.#jobSchedules = undefined;
      });
    }
    return (await this.#jobSchedules).arm(request);
  }

  /** Adds one update to the stream, for every API process (this one ignores its own `queued` and `schedule`). */
  async #publish(live: Connections, update: TaskUpdate): Promise<void> {
    await this.#addUpdates(live.commands, [update]);
  }

  /** Adds `updates` to the stream as one entry, on `client`. */
  #addUpdates(client: Redis, updates: readonly TaskUpdate[]): Promise<unknown> {
    return client.xadd(
      this.#keys.updates,
      'MAXLEN',
      '~',
      STREAM_MAX_LENGTH,
      '*',
      UPDATE_FIELD,
      JSON.stringify(updates),
    );
  }

  async #refreshCounts(): Promise<void> {
    const live = this.#live;
    if (!live) return;
    const counts = await live.queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active');
    this.#counts = {
      queued: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0),
      running: counts.active ?? 0,
    };
  }

  /**
   * Brings unfinished records up to date with their jobs: a persistent store may hold tasks that finished while
   * this process was down (their updates went by unread), or this process fell so far behind the update stream
   * that unread updates were trimmed; and tasks whose job is gone from Redis.
   */
  async #catchUp(): Promise<void> {
    const { env, live } = this.#require();
    for (const record of await env.store.listUnfinishedTasks()) {
      const job = await live.queue.getJob(record.id);
      if (!job) {
        if (record.state === 'queued') await this.enqueue(record);
        else {
          await live.applier.finish({
            ...record,
            state: 'interrupted',
            finishedAt: env.now(),
            error: {
              code: 'PLUGBOARD_TASK_INTERRUPTED',
              message: 'The task was running when its job disappeared from Redis (was the queue emptied?).',
            },
          });
        }
        continue;
      }
      const state = await job.getState();
      const completed = state === 'completed' ? completedRecord(job) : undefined;
      if (completed) await live.applier.finish(completed);
      else if (state === 'failed') await this.#recordLost(record.id, job.failedReason);
    }
  }

  async #recordLost(id: string, reason: string): Promise<void> {
    const { env, live } = this.#require();
    // No worker will finish it: drop what workers keep for a running task.
    await live.commands.multi().hdel(this.#keys.started, id).hdel(this.#keys.logSeq, id).exec();
    const record = await env.store.getTask(id);
    if (!record || isFinalState(record.state)) return;
    const stalled = /stalled/i.test(reason);
    await live.applier.finish({
      ...record,
      state: stalled ? 'interrupted' : 'failed',
      finishedAt: env.now(),
      error: {
        code: stalled ? 'PLUGBOARD_TASK_INTERRUPTED' : 'PLUGBOARD_TASK_FAILED',
        message: `BullMQ gave up on the job: ${reason}`,
      },
    });
  }

  #require(): { env: RuntimeEnvironment; live: Connections } {
    if (!this.#env || !this.#live) {
      throw new PlugboardError(
        'PLUGBOARD_HOST_NOT_STARTED',
        'The runtime has not been started: call host.start() first.',
      );
    }
    return { env: this.#env, live: this.#live };
  }
}

/** Creates the API side of the distributed runtime on BullMQ and Redis. */
export function bullmqRuntime(options: BullmqRuntimeOptions): BullmqRuntime {
  return new BullmqRuntime(options);
}
