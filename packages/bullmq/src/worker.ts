import { randomUUID } from 'node:crypto';
import {
  type BootReport,
  createHost,
  type Host,
  PlugboardError,
  type PluginInfo,
  type TaskClass,
  type TaskRecord,
} from '@plugboard/core';
import {
  endPatch,
  integerOption,
  nextAttempt,
  type RuntimeEnvironment,
  recoverCrashed,
  retryDelay,
  runWithTraceCarrier,
  TaskExecution,
  waitingForPluginSlot,
} from '@plugboard/core/spi';
import { DelayedError, type Job, Queue, type Telemetry, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { queueTargetOptions, telemetryOption } from './option-checks.js';
import { PluginSlots } from './plugin-slots.js';
import { dedicatedConnection, type RedisConnection, reachRedis, settlesWithin } from './redis-connection.js';
import type { PlugboardKeys } from './redis-keys.js';
import { relayEnvironment } from './relay-environment.js';
import type { TaskJobData, TaskJobResult } from './task-update.js';
import { UpdatePublisher } from './update-publisher.js';
import { WorkerChildren } from './worker-children.js';
import { WorkerHostRuntime } from './worker-host-runtime.js';
import type { WorkerOptions } from './worker-options.js';

/** BullMQ's own limit is only a backstop: the worker's stall rule (retry-safe task types) decides first. */
const MAX_STALLED_COUNT = 10;

/** The lifecycle states of a worker. */
export type WorkerState = 'created' | 'starting' | 'started' | 'stopping' | 'stopped';

interface Live {
  readonly worker: Worker<TaskJobData, TaskJobResult>;
  readonly commands: Redis;
  readonly subscriber: Redis;
  readonly publisher: UpdatePublisher;
  readonly env: RuntimeEnvironment;
  readonly slots: PluginSlots;
  /** Where the tasks it runs add their children. */
  readonly queue: Queue<TaskJobData>;
  readonly children: WorkerChildren;
}

/**
 * A worker process's side of the distributed runtime: it discovers and validates the same plugins as the API (with
 * the same code, a core host), takes tasks from the BullMQ queue, rebuilds each from its registered type and JSON
 * input and runs it, publishing state, progress and logs for the API processes to apply.
 */
export class PlugboardWorker {
  readonly #host: Host;
  readonly #runtime = new WorkerHostRuntime();
  readonly #connection: RedisConnection;
  readonly #queueName: string;
  readonly #prefix: string;
  readonly #keys: PlugboardKeys;
  readonly #concurrency: number;
  readonly #lockDurationMs: number;
  readonly #stalledIntervalMs: number;
  readonly #shutdownTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #telemetry: Telemetry | undefined;
  readonly #executions = new Map<string, TaskExecution>();
  /** Tasks this worker has taken and not started yet; a cancel that arrives meanwhile is kept here. */
  readonly #starting = new Map<string, { cancelled: boolean }>();
  #live: Live | undefined;
  #state: WorkerState = 'created';

  constructor(options: WorkerOptions) {
    const target = queueTargetOptions('createWorker', options);
    this.#connection = target.connection;
    this.#queueName = target.queueName;
    this.#prefix = target.prefix;
    this.#keys = target.keys;
    this.#concurrency = integerOption('concurrency', options.concurrency, 1, 4);
    this.#lockDurationMs = integerOption('lockDurationMs', options.lockDurationMs, 100, 30_000);
    this.#stalledIntervalMs = integerOption('stalledIntervalMs', options.stalledIntervalMs, 100, 30_000);
    this.#shutdownTimeoutMs = integerOption('shutdownTimeoutMs', options.shutdownTimeoutMs, 0, 10_000);
    this.#connectTimeoutMs = integerOption('connectTimeoutMs', options.connectTimeoutMs, 1, 10_000);
    this.#host = createHost({
      plugins: options.plugins,
      properties: options.properties,
      propertiesFile: options.propertiesFile,
      env: options.env,
      envPrefix: options.envPrefix,
      argv: options.argv,
      cwd: options.cwd,
      readinessTimeoutMs: options.readinessTimeoutMs,
      // Tasks run in worker threads or child processes here as on any host: a spinning task costs its task only.
      isolation: options.isolation,
      // Per-plugin limits hold across every worker of the queue: see PluginSlots.
      limits: options.limits,
      logger: options.logger,
      logTaskLines: options.logTaskLines,
      openTelemetry: options.openTelemetry,
      runtime: this.#runtime,
    });
    telemetryOption(options.telemetry);
    this.#telemetry = options.telemetry;
  }

  /** Where the worker is in its lifecycle. */
  get state(): WorkerState {
    return this.#state;
  }

  /** The worker's bus: `task:started|progress|log` of the tasks it runs, `plugin:status` and `error`. */
  get events(): Host['events'] {
    return this.#host.events;
  }

  /** The report of the worker's plugin discovery, once started. */
  get report(): BootReport | undefined {
    return this.#host.report;
  }

  /** The plugins this worker found, with their status. */
  plugins(): PluginInfo[] {
    return this.#host.plugins.list();
  }

  /** How many tasks this worker is running. */
  stats(): {
    /** Tasks running in this worker now. */
    readonly running: number;
  } {
    return { running: this.#executions.size };
  }

  /** Discovers and validates the plugins, connects to Redis and starts taking tasks. */
  async start(): Promise<BootReport> {
    if (this.#state !== 'created') {
      throw new PlugboardError(
        'PLUGBOARD_HOST_ALREADY_STARTED',
        `worker.start() was called while the worker is ${this.#state}; create a new worker to start again.`,
      );
    }
    this.#state = 'starting';
    const report = await this.#host.start();
    const env = this.#runtime.env!;
    let lastError: Error | undefined;
    const onError = (error: Error) => {
      lastError = error;
      env.reportError(error);
    };
    const commands = dedicatedConnection(this.#connection, onError);
    const subscriber = dedicatedConnection(this.#connection, onError);
    const publisher = new UpdatePublisher(commands, this.#keys, (error) => env.reportError(error));
    subscriber.on('message', (_channel: string, id: string) => {
      const execution = this.#executions.get(id);
      if (execution) execution.abort('cancelled', 'The task was cancelled while it ran.');
      else {
        const starting = this.#starting.get(id);
        if (starting) starting.cancelled = true;
      }
    });
    const worker = new Worker<TaskJobData, TaskJobResult>(
      this.#queueName,
      (job, token) => this.#process(job, token),
      {
        connection: this.#connection,
        prefix: this.#prefix,
        concurrency: this.#concurrency,
        lockDuration: this.#lockDurationMs,
        stalledInterval: this.#stalledIntervalMs,
        maxStalledCount: MAX_STALLED_COUNT,
        autorun: false,
        ...(this.#telemetry ? { telemetry: this.#telemetry } : {}),
      },
    );
    worker.on('error', onError);
    try {
      await reachRedis(
        Promise.all([
          subscriber.subscribe(this.#keys.cancelChannel),
          commands.ping(),
          worker.waitUntilReady(),
        ]),
        { ms: this.#connectTimeoutMs, queue: this.#queueName, lastError: () => lastError },
      );
    } catch (error) {
      await worker.close(true).catch(() => {});
      subscriber.disconnect();
      commands.disconnect();
      await this.#host.stop();
      this.#state = 'stopped';
      throw error;
    }
    const slots = new PluginSlots(commands, this.#keys.slots, this.#lockDurationMs);
    const queue = new Queue<TaskJobData>(this.#queueName, {
      connection: this.#connection,
      prefix: this.#prefix,
    });
    queue.on('error', onError);
    const children = new WorkerChildren(queue, publisher, `worker:${randomUUID()}`);
    this.#live = { worker, commands, subscriber, publisher, env, slots, queue, children };
    worker.run().catch((error) => env.reportError(error));
    this.#state = 'started';
    return report;
  }

  /**
   * Stops taking tasks, lets running ones finish up to the timeout, then aborts the rest and records them
   * `interrupted`, and disconnects. Queued tasks stay in Redis for the other workers.
   */
  async stop(options: { readonly timeoutMs?: number } = {}): Promise<void> {
    const live = this.#live;
    if (this.#state !== 'started' || !live) {
      if (this.#state === 'created') this.#state = 'stopped';
      return;
    }
    const timeoutMs = integerOption('timeoutMs', options.timeoutMs, 0, this.#shutdownTimeoutMs);
    this.#state = 'stopping';
    const closing = live.worker.close();
    const waitForRedis = this.#connectTimeoutMs;
    if (!(await settlesWithin(closing, timeoutMs))) {
      for (const execution of this.#executions.values()) {
        execution.abort(
          'interrupted',
          `The worker stopped while the task ran (it did not finish within the ${timeoutMs} ms shutdown timeout).`,
        );
      }
      // The aborted tasks settle at once; recording them needs Redis, which may be gone: then their jobs stall and
      // another worker recovers them.
      if (!(await settlesWithin(closing, waitForRedis))) {
        // Dropping the connection fails what waits on it, so BullMQ's close can finish.
        await settlesWithin(live.worker.disconnect(), waitForRedis);
        await settlesWithin(closing, waitForRedis);
      }
    }
    if (!(await settlesWithin(live.publisher.flush(), waitForRedis))) {
      live.env.reportError(
        new Error('Task updates could not be sent before the worker stopped: Redis did not answer.'),
      );
    }
    await settlesWithin(live.queue.close(), waitForRedis);
    for (const redis of [live.subscriber, live.commands]) {
      if (!(await settlesWithin(redis.quit(), waitForRedis))) redis.disconnect();
    }
    this.#live = undefined;
    await this.#host.stop();
    this.#state = 'stopped';
  }

  async #process(job: Job<TaskJobData, TaskJobResult>, token: string | undefined): Promise<TaskJobResult> {
    const id = job.data.record.id;
    // Registered before the cancel check goes out: a cancel published after Redis answered it reaches the
    // subscriber after this, and is kept until the task has started.
    const starting = { cancelled: false };
    this.#starting.set(id, starting);
    try {
      return await this.#withSlot(job, token, () => this.#attempt(job, token, starting));
    } finally {
      this.#starting.delete(id);
    }
  }

  /**
   * Runs the task once its plugin's limits let it start, across every worker of the queue; until then the job
   * waits as a delayed job, so it holds none of this worker's slots and other plugins' tasks go first.
   */
  async #withSlot(
    job: Job<TaskJobData, TaskJobResult>,
    token: string | undefined,
    run: () => Promise<TaskJobResult>,
  ): Promise<TaskJobResult> {
    const live = this.#live!;
    const record = job.data.record;
    const limits = live.env.pluginLimits?.(record.pluginId);
    if (!limits) return run();
    const refusals = job.data.slotRefusals ?? 0;
    const answer = await live.slots.take(record.pluginId, record.id, limits, refusals);
    if (!answer.granted) {
      const waitingReason = waitingForPluginSlot(record.pluginId);
      if (record.waitingReason !== waitingReason)
        live.publisher.publish({ type: 'patch', id: record.id, patch: { waitingReason } });
      await job.updateData({ ...job.data, record: { ...record, waitingReason }, slotRefusals: refusals + 1 });
      await job.moveToDelayed(Date.now() + answer.retryInMs, token);
      throw new DelayedError();
    }
    try {
      if (record.waitingReason) {
        live.publisher.publish({ type: 'patch', id: record.id, patch: { waitingReason: null } });
        await job.updateData({ ...job.data, record: { ...record, waitingReason: null }, slotRefusals: 0 });
      }
      return await run();
    } finally {
      await answer.release().catch((error: unknown) => live.env.reportError(error));
    }
  }

  async #attempt(
    job: Job<TaskJobData, TaskJobResult>,
    token: string | undefined,
    starting: { readonly cancelled: boolean },
  ): Promise<TaskJobResult> {
    const live = this.#live!;
    const { settings } = job.data;
    let record = job.data.record;
    const env = {
      ...relayEnvironment(live.env, settings, live.publisher, record, this.#host.events),
      ...live.children.environment(live.env, settings),
    };
    // One round trip for both: whether a cancel came first, and marking the task started in the worker-held hash.
    // A mark already there means a worker started this attempt before and died (BullMQ's stalled check handed the
    // job on); the job's record says so too when an earlier worker recovered it.
    const replies = await live.commands
      .pipeline()
      .exists(this.#keys.cancelFlag(record.id))
      .hset(this.#keys.started, record.id, 1)
      .exec();
    const failed = replies?.find(([error]) => error)?.[0];
    if (!replies || failed) throw failed ?? new Error('Redis did not answer the start of a task.');
    const cancelled = replies[0]![1] === 1;
    const startedBefore = replies[1]![1] === 0 || record.state === 'running';
    if (cancelled) {
      return this.#finish(live, {
        ...record,
        state: 'cancelled',
        finishedAt: env.now(),
        error: { code: 'PLUGBOARD_TASK_CANCELLED', message: 'The task was cancelled before it ran.' },
      });
    }
    if (startedBefore) {
      const recovered = await this.#recoverStalled(live, env, record);
      if (recovered.state !== 'queued') return this.#finish(live, recovered);
      record = recovered;
      // The next attempt is now the job's record, should this worker die too.
      await job.updateData({ ...job.data, record: { ...record, state: 'running' } });
    }
    const execution = new TaskExecution(env, record);
    this.#executions.set(record.id, execution);
    const outcome$ = runWithTraceCarrier(job.data.trace, () => execution.run());
    // A cancel published after the check above, before the task was registered as running.
    if (starting.cancelled) execution.abort('cancelled', 'The task was cancelled while it ran.');
    const outcome = await outcome$;
    this.#executions.delete(record.id);
    const attempted = execution.record;
    const delay =
      outcome.state === 'failed' && outcome.retryable && this.#state === 'started'
        ? retryDelay(env.retryPolicy(attempted), attempted.attempt, attempted.maxAttempts)
        : undefined;
    if (delay === undefined) return this.#finish(live, attempted);
    const next = nextAttempt(attempted, outcome.error);
    live.publisher.publish({ type: 'retry', record: next });
    await live.publisher.flush();
    // The next attempt starts afresh: it is not a stalled one.
    await Promise.all([
      job.updateData({ ...job.data, record: next }),
      live.commands.hdel(this.#keys.started, record.id),
    ]);
    // The same job waits out the backoff, so its id stays the task id and a cancel still finds it.
    await job.moveToDelayed(Date.now() + delay, token);
    throw new DelayedError();
  }

  /**
   * A task whose worker died runs again from the start when its type is retry-safe (at most up to its attempts,
   * and at least three), as the in-process host does after a crash; otherwise it is recorded `interrupted`.
   */
  async #recoverStalled(live: Live, env: RuntimeEnvironment, record: TaskRecord): Promise<TaskRecord> {
    const written = Number(await live.commands.hget(this.#keys.logSeq, record.id));
    const logCount = Math.max(record.logCount, Number.isFinite(written) ? written : 0);
    let taskClass: TaskClass | undefined;
    try {
      taskClass = env.instantiate(record).task.constructor as TaskClass;
    } catch {
      taskClass = undefined;
    }
    const verdict = recoverCrashed(record, {
      retrySafe: Boolean(taskClass?.retrySafe),
      runner: 'worker',
      now: env.now(),
      lastLogSeq: logCount,
    });
    await env.store.appendLogs(record.id, [verdict.log]);
    if (!verdict.rerun) return verdict.record;
    const next = verdict.record;
    live.publisher.publish({ type: 'retry', record: next });
    return next;
  }

  /**
   * Sends the outcome (with updates still buffered, and the clearing of the task's marks) and completes the job with
   * it without waiting for Redis to answer: the update is written to the connection before BullMQ completes the
   * job, so Redis takes it first even if this process dies right after. Both carry the end as a patch of the job's
   * record, which every API process holds; should the update be lost all the same, the job's record and its return
   * value make the final record, which API processes read when they catch up.
   */
  #finish(live: Live, record: TaskRecord): TaskJobResult {
    const patch = endPatch(record);
    live.publisher.publish({ type: 'finished', id: record.id, patch });
    live.publisher.flush().catch((error: unknown) => live.env.reportError(error));
    return patch;
  }
}

/** Creates a worker; `await worker.start()` discovers the plugins and starts taking tasks. */
export function createWorker(options: WorkerOptions): PlugboardWorker {
  return new PlugboardWorker(options);
}
