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

  /** `origin` identifies this API process, whose own `queued` updates are already applied. */
  constructor(env: RuntimeEnvironment, origin: string) {
    this.#env = env;
    this.#origin = origin;
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
      case 'started':
        await this.#ensure(update.record);
        this.#emit(() => events.emit('task:started', update.record));
        return;
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
        await this.finish(update.record);
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
    // Two ends of one task can arrive together (the update stream and a lost job's failure): the second waits for
    // the first, then finds the task finished, so `task:finished` is emitted once.
    const before = this.#finishing.get(record.id);
    const finishing = (before ?? Promise.resolve())
      .catch(() => {})
      .then(() => this.#finishOnce(record))
      .finally(() => {
        if (this.#finishing.get(record.id) === finishing) this.#finishing.delete(record.id);
      });
    this.#finishing.set(record.id, finishing);
    return finishing;
  }

  async #finishOnce(record: TaskRecord): Promise<void> {
    const { store, events } = this.#env;
    // A store shared with other API processes may hold the end already, written by one of them: whether this
    // process emitted it is then remembered here.
    const shared = store.shared !== undefined;
    if (shared && this.#finishedHere.has(record.id)) return;
    const stored = await store.getTask(record.id);
    if (stored && isFinalState(stored.state)) {
      if (!shared) return;
    } else if (!stored) await store.insertTask(record);
    else await store.updateTask(record.id, endPatch(record));
    if (shared) {
      this.#finishedHere.add(record.id);
      if (this.#finishedHere.size > FINISHED_REMEMBERED) {
        this.#finishedHere.delete(this.#finishedHere.values().next().value!);
      }
    }
    const final = (await store.getTask(record.id)) ?? record;
    this.#emit(() => events.emit('task:finished', final));
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
