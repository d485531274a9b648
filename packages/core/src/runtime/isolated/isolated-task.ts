import { PlugboardError } from '../../errors.js';
import { captureTraceCarrier } from '../../observability/trace-context.js';
import { Task, type TaskContext } from '../../task.js';
import { HostChildRelay } from './child-relay.js';
import { deserializeError, type RunTaskMessage, type WorkerToHostMessage } from './protocol.js';
import type { TaskWorkerSpec, WorkerExit } from './task-worker.js';
import type { WorkerPool } from './worker-pool.js';

/** Where and how one isolated task runs. */
export interface IsolatedTaskPlan {
  /** The pool that lends the worker. */
  readonly pool: WorkerPool;
  /** The worker the task needs (mode, memory limit, permission flags). */
  readonly spec: TaskWorkerSpec;
  /** The module file the worker imports the plugin class from. */
  readonly module: string;
  /** The task type's name within its plugin. */
  readonly taskType: string;
  /** How long the task may take to end once its signal fired, before its worker is ended. */
  readonly graceMs: number;
  /** The module's modification time when the host loaded it (see {@link RunTaskMessage.moduleVersion}). */
  readonly moduleVersion: number | null;
  /** Names the registered version of the plugin (see {@link RunTaskMessage.registration}). */
  readonly registration: number;
  /** Builds the task from the class the host registered, for when the module on disk is another version. */
  readonly inProcess: () => Task<unknown, unknown>;
}

const LOG_LEVELS: ReadonlySet<string> = new Set(['debug', 'info', 'warn', 'error', 'critical', 'always']);

/** The error an attempt is recorded with when its worker ended before the task did. */
function exitError(exit: WorkerExit, plan: IsolatedTaskPlan): Error {
  const error = exit.resourceLimit
    ? new PlugboardError(
        'PLUGBOARD_TASK_RESOURCE_LIMIT',
        `The task used more memory than its limit of ${plan.spec.memoryLimitMb} MB (isolation.memoryLimitMb); its ${plan.spec.mode} worker was ended.`,
      )
    : new PlugboardError(
        'PLUGBOARD_TASK_WORKER_EXITED',
        exit.terminated
          ? `The host ended the task's ${plan.spec.mode} worker.`
          : `The task's ${plan.spec.mode} worker ended before the task did (${exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`}): did the task call process.exit()? Return or throw from run() instead.`,
        exit.error ? { cause: exit.error } : undefined,
      );
  // Running the same code again in a new worker ends the same way.
  return Object.assign(error, { retryable: false });
}

/**
 * The host-side stand-in of a task that runs in a worker: `run` sends the task to a worker and turns the worker's
 * messages into the same `ctx` calls the task makes, so the attempt around it (states, retries, events, redaction)
 * is the one every runtime uses. The host, not the task, ends a task that outlives its signal by the grace period.
 */
export class IsolatedTask extends Task<unknown, unknown> {
  readonly #plan: IsolatedTaskPlan;

  constructor(input: unknown, plan: IsolatedTaskPlan) {
    super(input);
    this.#plan = plan;
  }

  override async run(ctx: TaskContext): Promise<unknown> {
    // The attempt's span is active here: the worker runs the task as its child.
    const trace = captureTraceCarrier();
    const plan = this.#plan;
    const worker = await plan.pool.acquire(plan.spec);
    if (ctx.signal.aborted) {
      // Cancelled, timed out or stopped while its worker started: the attempt is already recorded.
      plan.pool.release(worker, plan.spec);
      throw ctx.signal.reason;
    }
    return new Promise<unknown>((resolve, reject) => {
      let settled = false;
      let trusted = true;
      let graceTimer: ReturnType<typeof setTimeout> | undefined;
      const signal = ctx.signal;
      const finish = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        stopListening();
        stopWatchingExit();
        signal.removeEventListener('abort', onAbort);
        if (graceTimer) clearTimeout(graceTimer);
        if (trusted && !worker.ended) plan.pool.release(worker, plan.spec);
        else void plan.pool.retire(worker);
        outcome();
      };
      const onAbort = () => {
        const reason = signal.reason as { code?: unknown; message?: unknown } | undefined;
        worker.send({
          type: 'abort',
          id: ctx.taskId,
          code: typeof reason?.code === 'string' ? reason.code : 'PLUGBOARD_TASK_CANCELLED',
          message: typeof reason?.message === 'string' ? reason.message : 'The task was cancelled.',
        });
        if (graceTimer) return;
        graceTimer = setTimeout(() => {
          // The attempt is already recorded (cancel, timeout and shutdown settle it at once): end the worker
          // that still runs it, and the pool starts a fresh one for the next task.
          trusted = false;
          void plan.pool.retire(worker);
        }, plan.graceMs);
        graceTimer.unref?.();
      };
      const children = new HostChildRelay(ctx, (reply) => {
        if (!settled) worker.send(reply);
      });
      const stopListening = worker.onMessage((message: WorkerToHostMessage) => {
        if (message.type === 'fault') {
          trusted = false;
          const error = deserializeError(message.error);
          const code =
            message.kind === 'uncaught-exception'
              ? 'PLUGBOARD_TASK_UNCAUGHT_EXCEPTION'
              : 'PLUGBOARD_TASK_UNHANDLED_REJECTION';
          const what =
            message.kind === 'uncaught-exception'
              ? 'threw outside run() (from a timer or an event handler)'
              : 'left a promise rejected with no handler';
          finish(() =>
            reject(new PlugboardError(code, `The task ${what}: ${error.message}`, { cause: error })),
          );
          return;
        }
        if (message.type === 'ready' || message.id !== ctx.taskId) return;
        switch (message.type) {
          case 'stale':
            // The file changed since the host loaded it: the version the host registered runs, here.
            finish(() => {
              try {
                resolve(plan.inProcess().run(ctx));
              } catch (error) {
                reject(error);
              }
            });
            break;
          case 'log':
            // The worker's messages are the task's to forge: only a known level reaches the log.
            if (LOG_LEVELS.has(message.level)) ctx.log[message.level](String(message.message));
            break;
          case 'progress':
            if (message.message === undefined) ctx.progress(message.percent);
            else ctx.progress(message.percent, message.message);
            break;
          case 'status':
            ctx.status(message.text);
            break;
          case 'fail':
            ctx.fail(message.reason, { retryable: message.retryable });
            break;
          case 'spawn':
          case 'wait-child':
            children.handle(message);
            break;
          case 'end':
            if (message.ok) finish(() => resolve(message.result));
            else finish(() => reject(deserializeError(message.error)));
            break;
        }
      });
      const stopWatchingExit = worker.onExit((exit) => finish(() => reject(exitError(exit, plan))));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      const run: RunTaskMessage = {
        type: 'run',
        id: ctx.taskId,
        module: plan.module,
        moduleVersion: plan.moduleVersion,
        registration: plan.registration,
        pluginId: ctx.pluginId,
        taskType: plan.taskType,
        input: this.input,
        attempt: ctx.attempt,
        user: ctx.user,
        properties: ctx.properties,
        ...(trace ? { trace } : {}),
      };
      worker.send(run);
    });
  }
}
