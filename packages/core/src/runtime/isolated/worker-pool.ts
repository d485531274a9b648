import { PlugboardError } from '../../errors.js';
import { ProcessReaper } from './process-reaper.js';
import { TaskWorker, type TaskWorkerSpec } from './task-worker.js';

/** How long a new worker may take to load its bootstrap before it is given up on. */
const WORKER_START_TIMEOUT_MS = 30_000;

/** Counts for monitoring and benchmarks. */
export interface WorkerPoolStats {
  /** Workers waiting for a task. */
  readonly idle: number;
  /** Workers running a task (or ending one past its grace period). */
  readonly busy: number;
  /** Workers started since the pool was created. */
  readonly started: number;
  /** The mean time a worker took from start to ready, in milliseconds. */
  readonly meanStartMs: number;
}

/** Keys already made, by spec: a plugin's spec is one object, asked for on every acquire and release. */
const specKeys = new WeakMap<TaskWorkerSpec, string>();

function specKey(spec: TaskWorkerSpec): string {
  let key = specKeys.get(spec);
  if (key === undefined) {
    key = JSON.stringify([spec.mode, spec.entry, spec.memoryLimitMb, spec.execArgv]);
    specKeys.set(spec, key);
  }
  return key;
}

/**
 * Worker threads and child processes that run isolated tasks, one task per worker at a time. Workers are kept
 * idle per spec (mode, memory limit, permission flags) up to `idleWorkers` each, started when a task needs one
 * and none is idle, and replaced after one was ended. Admission, concurrency and priority are the runtime's
 * queue's: the pool never makes a task wait.
 */
export class WorkerPool {
  readonly #idleWorkers: number;
  readonly #idle = new Map<string, TaskWorker[]>();
  readonly #busy = new Set<TaskWorker>();
  readonly #reaper = new ProcessReaper();
  #closed = false;
  #started = 0;
  #startMsTotal = 0;

  constructor(options: { readonly idleWorkers: number }) {
    this.#idleWorkers = options.idleWorkers;
  }

  /** A ready worker for `spec`: an idle one, or a new one once it has loaded. */
  async acquire(spec: TaskWorkerSpec): Promise<TaskWorker> {
    if (this.#closed) {
      throw new PlugboardError('PLUGBOARD_HOST_STOPPING', 'The host is stopping; no task is started.');
    }
    const idle = this.#idle.get(specKey(spec));
    while (idle && idle.length > 0) {
      const worker = idle.pop()!;
      if (worker.ended) continue;
      this.#busy.add(worker);
      worker.ref(true);
      return worker;
    }
    const worker = await this.#start(spec);
    this.#busy.add(worker);
    return worker;
  }

  async #start(spec: TaskWorkerSpec): Promise<TaskWorker> {
    const began = performance.now();
    const worker = new TaskWorker(spec);
    this.#busy.add(worker);
    if (worker.pid !== undefined) {
      this.#reaper.watch(worker.pid);
      void worker.exited.then(() => this.#reaper.forget(worker.pid));
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        const off = worker.onMessage((message) => {
          if (message.type === 'ready') {
            off();
            resolve();
          }
        });
        worker.exited.then((exit) =>
          reject(
            new PlugboardError(
              'PLUGBOARD_TASK_WORKER_EXITED',
              `A ${spec.mode} worker ended while it started (exit code ${exit.code ?? exit.signal}): ${exit.error?.message ?? 'see the host output'}.`,
              { cause: exit.error },
            ),
          ),
        );
        timer = setTimeout(
          () =>
            reject(
              new PlugboardError(
                'PLUGBOARD_TASK_WORKER_EXITED',
                `A ${spec.mode} worker did not start within ${WORKER_START_TIMEOUT_MS} ms.`,
              ),
            ),
          WORKER_START_TIMEOUT_MS,
        );
      });
    } catch (error) {
      this.#busy.delete(worker);
      void worker.terminate();
      throw error;
    } finally {
      if (timer) clearTimeout(timer);
    }
    this.#busy.delete(worker);
    this.#started++;
    this.#startMsTotal += performance.now() - began;
    if (this.#closed) {
      void worker.terminate();
      throw new PlugboardError('PLUGBOARD_HOST_STOPPING', 'The host is stopping; no task is started.');
    }
    return worker;
  }

  /** Takes back a worker whose task ended cleanly: kept idle, or ended when enough are idle. */
  release(worker: TaskWorker, spec: TaskWorkerSpec): void {
    this.#busy.delete(worker);
    if (worker.ended) return;
    const key = specKey(spec);
    const idle = this.#idle.get(key) ?? [];
    if (this.#closed || idle.length >= this.#idleWorkers) {
      void worker.terminate();
      return;
    }
    worker.ref(false);
    idle.push(worker);
    this.#idle.set(key, idle);
  }

  /** Ends a worker that can no longer be trusted (a task that overran its grace, a fault); resolves once ended. */
  async retire(worker: TaskWorker): Promise<void> {
    this.#busy.delete(worker);
    await worker.terminate();
  }

  /** Ends idle workers, so the next tasks load plugin modules afresh (after a plugin was reloaded). */
  recycleIdle(): void {
    for (const list of this.#idle.values()) for (const worker of list.splice(0)) void worker.terminate();
  }

  /** Ends every worker, idle or busy, and refuses new work; resolves once all have ended. */
  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#busy, ...[...this.#idle.values()].flat()];
    this.#busy.clear();
    this.#idle.clear();
    await Promise.all(all.map((worker) => worker.terminate()));
    this.#reaper.close();
  }

  /** Counts of idle and busy workers. */
  stats(): WorkerPoolStats {
    let idle = 0;
    for (const list of this.#idle.values()) idle += list.length;
    return {
      idle,
      busy: this.#busy.size,
      started: this.#started,
      meanStartMs: this.#started === 0 ? 0 : this.#startMsTotal / this.#started,
    };
  }
}
