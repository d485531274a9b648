import type { EventEmitter } from 'eventemitter3';
import type { Clock } from '../clock.js';
import { PlugboardError } from '../errors.js';
import type { HostEvents } from '../events.js';
import type { CancelOptions, TaskRuntime } from '../runtime/runtime.js';
import { fieldError } from '../schema.js';
import {
  decodeCursor,
  emptyCounts,
  type LogQuery,
  type TaskCounts,
  type TaskPage,
  type TaskQuery,
  type TaskStore,
} from '../store/store.js';
import { isFinalState, type PlugboardUser, type TaskLogEntry, type TaskRecord } from '../task.js';

import type { WaitKeepAlive } from './wait-keep-alive.js';

/** How many recent task ends the host keeps in memory for when the store lags behind. */
const RECENT_ENDS = 256;

/** Options of `host.tasks.cancel`. */
export interface TaskCancelOptions extends CancelOptions {
  /** The person who cancelled the task, kept as `error.cancelledBy` on its record. */
  readonly by?: PlugboardUser;
}

/** What {@link HostTasks} works with. */
export interface HostTasksOptions {
  readonly store: TaskStore;
  readonly runtime: TaskRuntime;
  readonly clock: Clock;
  readonly events: EventEmitter<HostEvents>;
  /** Holds the process open while a wait is pending. */
  readonly keepAlive: WaitKeepAlive;
  /** Queues a new run of a task as `user`, through its plugin (authorised, operational). */
  readonly rerun?: (record: TaskRecord, user: PlugboardUser) => Promise<TaskRecord>;
}

/** Watching, listing and cancelling tasks: `host.tasks`. */
export class HostTasks {
  readonly #options: HostTasksOptions;
  readonly #waiters = new Map<string, Array<(record: TaskRecord) => void>>();
  /**
   * The most recent task ends, as the runtime reported them. While the store refuses writes (a full disk, a lock
   * held elsewhere) it still holds such a task as unfinished; reads, waits and cancels go by the reported end.
   */
  readonly #recentEnds = new Map<string, TaskRecord>();

  /** Built by the host; listens to `task:finished` on its bus to settle waiters. @internal */
  constructor(options: HostTasksOptions) {
    this.#options = options;
    options.events.on('task:finished', (record) => {
      this.#recentEnds.delete(record.id);
      this.#recentEnds.set(record.id, record);
      if (this.#recentEnds.size > RECENT_ENDS) this.#recentEnds.delete(this.#recentEnds.keys().next().value!);
      const waiters = this.#waiters.get(record.id);
      if (waiters) {
        this.#waiters.delete(record.id);
        for (const resolve of waiters) resolve(record);
      }
    });
  }

  /** One task's record, or `undefined`. */
  async get(id: string): Promise<TaskRecord | undefined> {
    return this.#withEnd(await this.#options.store.getTask(id));
  }

  /** Tasks newest first, filtered by user, plugin and state, paged by cursor. */
  async list(query: TaskQuery = {}): Promise<TaskPage> {
    if (query.cursor !== undefined && decodeCursor(query.cursor) === undefined) {
      throw fieldError('PLUGBOARD_INVALID_ARGUMENTS', 'Invalid task query', [
        { path: '/cursor', message: 'is not a cursor returned by a previous page' },
      ]);
    }
    if (
      query.limit !== undefined &&
      (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > 500)
    ) {
      throw fieldError('PLUGBOARD_INVALID_ARGUMENTS', 'Invalid task query', [
        { path: '/limit', message: 'must be an integer from 1 to 500' },
      ]);
    }
    const page = await this.#options.store.listTasks(query);
    if (this.#recentEnds.size === 0) return page;
    const states = query.state === undefined ? undefined : [query.state].flat();
    const items = page.items
      .map((record) => this.#withEnd(record)!)
      .filter((record) => states === undefined || states.includes(record.state));
    return { ...page, items };
  }

  /** How many tasks are in each state, for the user and plugin filters of `query`. */
  async counts(query: Pick<TaskQuery, 'user' | 'plugin'> = {}): Promise<TaskCounts> {
    const filters = { user: query.user, plugin: query.plugin };
    const { store } = this.#options;
    if (store.countTasks) return store.countTasks(filters);
    const counts = emptyCounts();
    let cursor: string | undefined;
    do {
      const page = await store.listTasks({ ...filters, limit: 500, cursor });
      for (const record of page.items) counts[record.state]++;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    return counts;
  }

  /**
   * Runs a task again with the same input, as `options.user` (the person who asked; the original user without
   * it), and returns the new task's record. The plugin must be operational and the user allowed to execute it.
   */
  async rerun(id: string, options: { readonly user?: PlugboardUser } = {}): Promise<TaskRecord> {
    const record = await this.#known(id);
    if (!this.#options.rerun) {
      throw new PlugboardError('PLUGBOARD_INVALID_OPTION', 'This host cannot run tasks again.');
    }
    return this.#options.rerun(record, options.user ?? record.user);
  }

  /** The children a task started with `ctx.spawn`, oldest first, each as stored now (its state included). */
  async children(id: string): Promise<TaskRecord[]> {
    await this.#known(id);
    const children: TaskRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.#options.store.listTasks({ parent: id, limit: 500, cursor });
      for (const record of page.items) children.push(this.#withEnd(record)!);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    return children.reverse();
  }

  /** A task's log lines after `after` (a `seq`). */
  async logs(id: string, query: LogQuery = {}): Promise<readonly TaskLogEntry[]> {
    await this.#known(id);
    return this.#options.store.getLogs(id, query);
  }

  /**
   * Cancels a queued or running task and returns its final record. With `waitForStop`, a running task is
   * recorded `cancelled` only once its code has stopped (it stays `running` until then).
   */
  async cancel(id: string, options?: TaskCancelOptions): Promise<TaskRecord> {
    const record = await this.#cancel(id, options);
    const by = options?.by;
    if (by === undefined || record.state !== 'cancelled' || record.error === null) return record;
    const error = { ...record.error, cancelledBy: { id: by.id, name: by.name ?? null } };
    await this.#options.store.updateTask(id, { error });
    return { ...record, error };
  }

  async #cancel(id: string, options?: CancelOptions): Promise<TaskRecord> {
    const { store, runtime, clock, events } = this.#options;
    const record = await this.#known(id);
    if (isFinalState(record.state)) {
      throw new PlugboardError(
        'PLUGBOARD_TASK_FINISHED',
        `Task \`${id}\` already finished (${record.state}); nothing to cancel.`,
      );
    }
    // A task of another process sharing the store is cancelled there; its end arrives as its event.
    const cancelOptions = options && { waitForStop: options.waitForStop };
    const handled =
      (await runtime.cancel(id, cancelOptions)) || (await store.shared?.cancel(id, cancelOptions)) === true;
    if (!handled) {
      await store.updateTask(id, {
        state: 'cancelled',
        finishedAt: clock.now(),
        error: { code: 'PLUGBOARD_TASK_CANCELLED', message: 'The task was cancelled.' },
      });
      const cancelled = (await store.getTask(id))!;
      events.emit('task:finished', cancelled);
      return cancelled;
    }
    return this.wait(id);
  }

  /**
   * Resolves with the record once the task reaches a final state. `signal` stops the wait: the promise rejects
   * with its reason (at once when it is aborted already), and the task runs on.
   */
  async wait(id: string, options: { signal?: AbortSignal } = {}): Promise<TaskRecord> {
    const signal = options.signal;
    signal?.throwIfAborted();
    const release = this.#options.keepAlive.hold();
    let onAbort: (() => void) | undefined;
    const pending = new Promise<TaskRecord>((resolve, reject) => {
      const list = this.#waiters.get(id) ?? [];
      list.push(resolve);
      this.#waiters.set(id, list);
      if (signal) {
        onAbort = () => reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
      }
    });
    try {
      const record = await this.#known(id);
      if (isFinalState(record.state)) {
        this.#waiters.delete(id);
        return record;
      }
      return await pending;
    } finally {
      release();
      // A long-lived signal given to many waits keeps no listener of a wait that is over.
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The stored record, or the end the runtime reported when the store could not record it yet. */
  #withEnd(record: TaskRecord | undefined): TaskRecord | undefined {
    if (record === undefined || isFinalState(record.state)) return record;
    return this.#recentEnds.get(record.id) ?? record;
  }

  async #known(id: string): Promise<TaskRecord> {
    const record = typeof id === 'string' ? this.#withEnd(await this.#options.store.getTask(id)) : undefined;
    if (!record) {
      this.#waiters.delete(id);
      throw new PlugboardError(
        'PLUGBOARD_UNKNOWN_TASK',
        `No task has id \`${String(id).slice(0, 80)}\` (it may have been evicted by retention).`,
      );
    }
    return record;
  }
}
