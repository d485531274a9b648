import { isFinalState, type ScheduleRecord, type TaskRecord } from '@plugboard/core';
import { endPatch, nextAttemptPatch, type RuntimeEnvironment } from '@plugboard/core/spi';
import type { TaskUpdate } from './task-update.js';

/** Task ends this process remembers having emitted, when the store is shared and cannot tell it. */
const FINISHED_REMEMBERED = 10_000;

/**
 * Applies task updates from workers to an API process's store and re-emits them on its bus, so `host.tasks.*`
 * and `host.events` behave as with the in-process runtime. A task this process's store does not hold (queued by
 * another API process with its own store) is added from the full record the update carries.
 */
export class UpdateApplier {
  readonly #env: RuntimeEnvironment;
  readonly #origin: string;
  /** Ids of the tasks whose end this process emitted (shared stores only), oldest first. */
  readonly #finishedHere = new Set<string>();
  /** Ends being recorded now, by task id. */
  readonly #finishing = new Map<string, Promise<void>>();

  readonly #readRecord: (id: string) => Promise<TaskRecord | undefined>;

  /**
   * `origin` identifies this API process, whose own `queued` updates are already applied. `readRecord` finds the
   * record of a task this process's store does not hold (its job's record), for updates that carry only a patch.
   */
  constructor(
    env: RuntimeEnvironment,
    origin: string,
    readRecord: (id: string) => Promise<TaskRecord | undefined> = async () => undefined,
  ) {
    this.#env = env;
    this.#origin = origin;
    this.#readRecord = readRecord;
  }

  async apply(update: TaskUpdate): Promise<void> {
    const { store, events } = this.#env;
    switch (update.type) {
      case 'queued':
        if (update.origin === this.#origin) return;
        await this.#ensure(update.record);
        this.#emit(() => events.emit('task:queued', update.record));
        return;
      case 'patch':
        await store.updateTask(update.id, update.patch);
        return;
      case 'logs':
        await store.appendLogs(update.id, update.entries);
        for (const entry of update.entries) {
          this.#emit(() =>
            events.emit('task:log', {
              id: update.id,
              pluginId: update.pluginId,
              userId: update.userId,
              entry,
            }),
          );
        }
        return;
      case 'started': {
        const record = await this.#start(update.id, update.patch);
        if (record) this.#emit(() => events.emit('task:started', record));
        return;
      }
      case 'progress':
        this.#emit(() => events.emit('task:progress', update.event));
        return;
      case 'retry': {
        const { record } = update;
        await this.#ensure(record);
        await store.updateTask(record.id, nextAttemptPatch(record));
        this.#emit(() => events.emit('task:queued', record));
        return;
      }
      case 'finished':
        if ('record' in update) await this.finish(update.record);
        else await this.#serialised(update.id, () => this.#finishOnce(update.id, undefined, update.patch));
        return;
      case 'schedule':
        if (update.origin === this.#origin) return;
        await this.#schedule(update.schedule, update.fired);
        return;
    }
  }

  /**
   * Writes a task's final record and emits `task:finished`, unless the store already holds it finished: the same
   * outcome may arrive twice (from the update stream and from the job itself).
   */
  finish(record: TaskRecord): Promise<void> {
    return this.#serialised(record.id, () => this.#finishOnce(record.id, record, endPatch(record)));
  }

  /** Runs one task's end after any other end of it being recorded now. */
  #serialised(id: string, end: () => Promise<void>): Promise<void> {
    // Two ends of one task can arrive together (the update stream and a lost job's failure): the second waits for
    // the first, then finds the task finished, so `task:finished` is emitted once.
    const before = this.#finishing.get(id);
    const finishing = (before ?? Promise.resolve())
      .catch(() => {})
      .then(end)
      .finally(() => {
        if (this.#finishing.get(id) === finishing) this.#finishing.delete(id);
      });
    this.#finishing.set(id, finishing);
    return finishing;
  }

  /** Records a task's end, given as its final record or as a patch of the record the store (or its job) holds. */
  async #finishOnce(id: string, record: TaskRecord | undefined, patch: Partial<TaskRecord>): Promise<void> {
    const { store, events } = this.#env;
    // A store shared with other API processes may hold the end already, written by one of them: whether this
    // process emitted it is then remembered here.
    const shared = store.shared !== undefined;
    if (shared && this.#finishedHere.has(id)) return;
    const stored = await store.getTask(id);
    let inserted: TaskRecord | undefined;
    if (stored && isFinalState(stored.state)) {
      if (!shared) return;
    } else if (stored) await store.updateTask(id, patch);
    else {
      const base = record ?? (await this.#recordOf(id));
      if (!base) return;
      inserted = record ?? { ...base, ...patch };
      await store.insertTask(inserted);
    }
    if (shared) {
      this.#finishedHere.add(id);
      if (this.#finishedHere.size > FINISHED_REMEMBERED) {
        this.#finishedHere.delete(this.#finishedHere.values().next().value!);
      }
    }
    // A store that keeps no finished task (a retention of none) no longer holds it: the record as this process knows it.
    const final = (await store.getTask(id)) ?? inserted ?? record ?? { ...stored!, ...patch };
    this.#emit(() => events.emit('task:finished', final));
  }

  /** Applies the start of an attempt; the record as started, or `undefined` when no record of the task is found. */
  async #start(id: string, patch: Partial<TaskRecord>): Promise<TaskRecord | undefined> {
    const { store } = this.#env;
    const stored = await store.getTask(id);
    if (stored) {
      await store.updateTask(id, patch);
      return { ...stored, ...patch };
    }
    const base = await this.#recordOf(id);
    if (!base) return undefined;
    const record = { ...base, ...patch };
    await store.insertTask(record);
    return record;
  }

  /** The record of a task this process's store does not hold (queued by another API process it has not heard). */
  async #recordOf(id: string): Promise<TaskRecord | undefined> {
    const record = await this.#readRecord(id);
    if (!record) {
      this.#env.reportError(
        new Error(
          `An update of task ${id} arrived, but neither this API process's store nor Redis holds its record.`,
        ),
      );
    }
    return record;
  }

  /** Stores a shared schedule as the API process that ran its firing stored it, if this host has it too. */
  async #schedule(schedule: ScheduleRecord, fired: boolean): Promise<void> {
    const { store, events } = this.#env;
    if (!(await store.getSchedule(schedule.id))) return;
    // The run's tasks may have finished here before this update arrived: their state is the run's last state.
    let latest: TaskRecord | undefined;
    for (const id of schedule.lastTaskIds) {
      const record = await store.getTask(id);
      if (record && isFinalState(record.state) && (record.finishedAt ?? 0) >= (latest?.finishedAt ?? 0)) {
        latest = record;
      }
    }
    await store.saveSchedule(latest ? { ...schedule, lastState: latest.state } : schedule);
    if (fired) {
      this.#emit(() =>
        events.emit('schedule:fired', {
          id: schedule.id,
          pluginId: schedule.pluginId,
          taskIds: schedule.lastTaskIds,
        }),
      );
    }
  }

  async #ensure(record: TaskRecord): Promise<void> {
    const { store } = this.#env;
    if (!(await store.getTask(record.id))) await store.insertTask(record);
  }

  #emit(emit: () => void): void {
    try {
      emit();
    } catch (error) {
      // A throwing listener must not stop the updates of other tasks.
      this.#env.reportError(error);
    }
  }
}
