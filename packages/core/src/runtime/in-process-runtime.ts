import type { Context } from '@opentelemetry/api';
import PQueue from 'p-queue';
import { PlugboardError } from '../errors.js';
import { activeTraceContext, runInTraceContext } from '../observability/trace-context.js';
import { integerOption } from '../option-checks.js';
import type { TaskRecord } from '../task.js';
import { PluginAdmission } from './plugin-admission.js';
import type { CancelOptions, RuntimeEnvironment, RuntimeStopOptions, TaskRuntime } from './runtime.js';
import { type AttemptOutcome, TaskExecution } from './task-execution.js';
import { endPatch, nextAttempt, nextAttemptPatch, retryDelay } from './task-life.js';

/** Options of {@link inProcessRuntime}. */
export interface InProcessRuntimeOptions {
  /**
   * How many tasks run at once.
   * @default 4
   */
  readonly concurrency?: number;
}

/** Tasks started in a row between two looks at whether the event loop has had a turn. */
const CHECK_TURN_EVERY = 32;
/** How long tasks may run back to back (ms) before the runtime makes them wait for the event loop to take a turn. */
const MAX_BUSY_MS = 5;
/** The first wait before writing a task's end again after the store refused it; it doubles up to the maximum. */
const END_RETRY_FIRST_MS = 500;
const END_RETRY_MAX_MS = 30_000;

interface Entry {
  /** Set when the task is cancelled or the runtime stops before the queue reaches it: it is then skipped. */
  dropped: boolean;
  execution?: TaskExecution;
  retryTimer?: ReturnType<typeof setTimeout>;
  done?: Promise<void>;
  /** The trace context the task was queued in (its `execute`'s span): every attempt's span is its child. */
  readonly trace: Context;
}

/**
 * The default runtime: tasks run in this process on p-queue, with priorities, per-task timeouts that the
 * runtime enforces itself (a task that ignores its signal is still recorded `timed-out`), cancellation and retries.
 */
export class InProcessRuntime implements TaskRuntime {
  readonly name = 'in-process';
  readonly #queue: PQueue;
  /** Per-plugin limits and the fair share of slots between plugins, in front of the queue. */
  readonly #admission: PluginAdmission;
  readonly #entries = new Map<string, Entry>();
  #env: RuntimeEnvironment | undefined;
  /** Reports an error to the current environment: one function for every task rather than a closure each. */
  readonly #reportError = (error: unknown): void => {
    this.#env?.reportError(error);
  };
  #stopping = false;
  /** Cancelled tasks whose closures still wait in the queue (they return at once when reached). */
  #droppedWaiting = 0;
  #sinceCheck = 0;
  /** When the event loop last took a turn (its check phase ran), as seen by the turn marker. */
  #lastTurn = 0;
  #turnMarked = false;
  /** Attempts that ended and whose end is being recorded and announced, and who waits for them all. */
  #settling = 0;
  #settled: (() => void) | undefined;
  #allSettled: Promise<void> | undefined;
  /** Ends of tasks the store refused to record, waiting to be written again. */
  readonly #unwrittenEnds = new Map<
    string,
    { timer: ReturnType<typeof setTimeout>; patch: Partial<TaskRecord> }
  >();

  constructor(options: InProcessRuntimeOptions = {}) {
    const concurrency = options.concurrency ?? 4;
    // Infinity is allowed: no limit.
    if (concurrency !== Infinity) integerOption('concurrency', concurrency, 1, 4);
    this.#queue = new PQueue({ concurrency });
    this.#admission = new PluginAdmission({
      limits: (pluginId) => this.#env?.pluginLimits?.(pluginId),
      hasCapacity: () => this.#queue.pending + this.#queue.size - this.#droppedWaiting < concurrency,
      now: () => Date.now(),
      markWaiting: (record, reason) => {
        const env = this.#env;
        env?.store.updateTask(record.id, { waitingReason: reason }).catch((error) => env.reportError(error));
      },
    });
    this.#queue.on('next', () => this.#admission.drain());
  }

  async start(env: RuntimeEnvironment): Promise<void> {
    this.#env = env;
    this.#stopping = false;
    this.#queue.start();
  }

  async enqueue(record: TaskRecord): Promise<void> {
    const env = this.#requireEnv();
    if (this.#stopping)
      throw new PlugboardError('PLUGBOARD_HOST_STOPPING', 'The runtime is stopping; no task is accepted.');
    const entry: Entry = this.#entries.get(record.id) ?? { dropped: false, trace: activeTraceContext() };
    this.#entries.set(record.id, entry);
    this.#admission.admit(record, (release) => this.#add(env, record, entry, release));
  }

  #add(env: RuntimeEnvironment, record: TaskRecord, entry: Entry, release: () => void): void {
    this.#queue
      .add(
        async () => {
          if (entry.dropped) {
            this.#droppedWaiting--;
            release();
            return;
          }
          // Tasks that finish without I/O would run back to back in microtasks and starve the event loop
          // (timers, sockets, log flushes): once they have kept it from a turn for a while, wait for one.
          if (++this.#sinceCheck >= CHECK_TURN_EVERY) {
            this.#sinceCheck = 0;
            if (this.#starving()) {
              await new Promise<void>((resolve) => setImmediate(resolve));
              if (entry.dropped) {
                this.#droppedWaiting--;
                release();
                return;
              }
            }
          }
          const execution = new TaskExecution(env, record);
          entry.execution = execution;
          const attempt = runInTraceContext(entry.trace, () => execution.run());
          this.#settling++;
          const done = attempt.then((outcome) => this.#settle(execution.record, outcome));
          entry.done = done;
          // The slot is free once the attempt has ended: writing its end to the store (and announcing it once
          // written) does not hold back the next task. A slow store would otherwise cap throughput at
          // `concurrency` tasks per write.
          await attempt;
          release();
        },
        { priority: record.priority },
      )
      .catch(this.#reportError);
  }

  async cancel(id: string, options: CancelOptions = {}): Promise<boolean> {
    const entry = this.#entries.get(id);
    if (!entry) return false;
    if (entry.execution) {
      if (options.waitForStop) entry.execution.requestCancel('The task was cancelled while it ran.');
      else entry.execution.abort('cancelled', 'The task was cancelled while it ran.');
      await entry.done;
      return true;
    }
    // Still waiting: for its plugin's turn, in the queue or for a retry.
    if (!entry.retryTimer && !this.#admission.withdraw(id)) this.#droppedWaiting++;
    entry.dropped = true;
    if (entry.retryTimer) clearTimeout(entry.retryTimer);
    this.#entries.delete(id);
    const env = this.#requireEnv();
    const patch = {
      state: 'cancelled' as const,
      finishedAt: env.now(),
      error: { code: 'PLUGBOARD_TASK_CANCELLED', message: 'The task was cancelled before it ran.' },
    };
    await env.store.updateTask(id, patch);
    const record = await env.store.getTask(id);
    if (record) env.events.emit('task:finished', record);
    return true;
  }

  async stop(options: RuntimeStopOptions): Promise<void> {
    this.#stopping = true;
    // Queued tasks stay `queued` in the store: a persistent store re-queues them at the next start.
    this.#queue.pause();
    for (const [id, entry] of this.#entries) {
      if (entry.execution) continue;
      entry.dropped = true;
      if (entry.retryTimer) clearTimeout(entry.retryTimer);
      this.#entries.delete(id);
    }
    this.#queue.clear();
    this.#admission.clear();
    this.#droppedWaiting = 0;
    await this.#drainRunning(options);
    // Ends being written when the host stops are written before the store closes.
    if (this.#settling > 0) {
      this.#allSettled ??= new Promise<void>((resolve) => {
        this.#settled = resolve;
      });
      await this.#allSettled;
    }
    // One last try for the ends the store refused; what still fails is recovered at the next start.
    const unwritten = [...this.#unwrittenEnds];
    this.#unwrittenEnds.clear();
    const env = this.#env;
    for (const [id, { timer, patch }] of unwritten) {
      clearTimeout(timer);
      if (env) await env.store.updateTask(id, patch).catch((error) => env.reportError(error));
    }
  }

  async #drainRunning(options: RuntimeStopOptions): Promise<void> {
    const running = [...this.#entries.values()].filter((e) => e.execution && e.done);
    if (running.length === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const all = Promise.all(running.map((e) => e.done));
    const timedOut = await Promise.race([
      all.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), options.timeoutMs);
      }),
    ]);
    if (timer) clearTimeout(timer);
    if (timedOut) {
      for (const entry of running) {
        entry.execution?.abort(
          'interrupted',
          `The host stopped while the task ran (it did not finish within the ${options.timeoutMs} ms shutdown timeout).`,
        );
      }
      await all;
    }
  }

  stats(): {
    /** Tasks waiting for a free slot. */
    queued: number;
    /** Tasks running now. */
    running: number;
  } {
    return {
      queued: this.#queue.size - this.#droppedWaiting + this.#admission.waiting,
      running: this.#queue.pending,
    };
  }

  /**
   * True when the event loop has not taken a turn for `MAX_BUSY_MS`. A marker on the check phase records each turn;
   * setting it costs one `setImmediate` per `CHECK_TURN_EVERY` tasks, and tasks that do I/O never wait.
   */
  #starving(): boolean {
    const now = performance.now();
    if (!this.#turnMarked) {
      this.#turnMarked = true;
      this.#lastTurn = now;
      setImmediate(() => {
        this.#turnMarked = false;
      });
      return false;
    }
    return now - this.#lastTurn >= MAX_BUSY_MS;
  }

  async #settle(record: TaskRecord, outcome: AttemptOutcome): Promise<void> {
    try {
      const env = this.#requireEnv();
      const entry = this.#entries.get(record.id);
      const delay =
        outcome.state === 'failed' && outcome.retryable && !this.#stopping
          ? retryDelay(env.retryPolicy(record), record.attempt, record.maxAttempts)
          : undefined;
      try {
        if (delay !== undefined && entry) {
          const next = nextAttempt(record, outcome.error);
          await env.store.updateTask(record.id, nextAttemptPatch(next));
          entry.execution = undefined;
          entry.done = undefined;
          entry.retryTimer = setTimeout(() => {
            entry.retryTimer = undefined;
            env.events.emit('task:queued', next);
            this.enqueue(next).catch((error) => env.reportError(error));
          }, delay);
          entry.retryTimer.unref?.();
          return;
        }
        this.#entries.delete(record.id);
        // Writes how the task ended. A store that refuses (a full disk, a lock held elsewhere) is asked again in
        // the background until it accepts or the runtime stops, so the record does not stay `running` once the
        // store is back.
        const patch = endPatch(record);
        try {
          await env.store.updateTask(record.id, patch);
        } catch (error) {
          env.reportError(error);
          this.#retryEnd(env, record.id, patch, 1);
        }
      } catch (error) {
        env.reportError(error);
      }
      try {
        env.events.emit('task:finished', record);
      } catch (error) {
        env.reportError(error);
      }
    } finally {
      if (--this.#settling === 0 && this.#settled) {
        this.#settled();
        this.#settled = undefined;
        this.#allSettled = undefined;
      }
    }
  }

  #retryEnd(env: RuntimeEnvironment, id: string, patch: Partial<TaskRecord>, attempt: number): void {
    const timer = setTimeout(
      () => {
        this.#unwrittenEnds.delete(id);
        env.store
          .updateTask(id, patch)
          .catch(() => (this.#stopping ? undefined : this.#retryEnd(env, id, patch, attempt + 1)));
      },
      Math.min(END_RETRY_MAX_MS, END_RETRY_FIRST_MS * 2 ** (attempt - 1)),
    );
    timer.unref?.();
    this.#unwrittenEnds.set(id, { timer, patch });
  }

  #requireEnv(): RuntimeEnvironment {
    if (!this.#env) {
      throw new PlugboardError(
        'PLUGBOARD_HOST_NOT_STARTED',
        'The runtime has not been started: call host.start() first.',
      );
    }
    return this.#env;
  }
}

/** Creates the default in-process runtime on p-queue. */
export function inProcessRuntime(options?: InProcessRuntimeOptions): InProcessRuntime {
  return new InProcessRuntime(options);
}
