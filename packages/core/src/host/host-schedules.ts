import type { ScheduleManager } from '../schedules/background-schedules.js';
import type { ScheduleRecord, TaskStore } from '../store/store.js';
import type { PlugboardUser } from '../task.js';
import type { HostLifecycle } from './host-lifecycle.js';
import type { ExecuteResult } from './host-options.js';

/** Background-task schedules: `host.schedules`. */
export class HostSchedules {
  readonly #store: TaskStore;
  readonly #schedules: ScheduleManager;
  readonly #lifecycle: HostLifecycle;

  /** Built by the host; reach it as `host.schedules`. @internal */
  constructor(store: TaskStore, schedules: ScheduleManager, lifecycle: HostLifecycle) {
    this.#store = store;
    this.#schedules = schedules;
    this.#lifecycle = lifecycle;
  }

  /** Every schedule in the store, with its cron expression and time zone (`null` for a delay and repeat schedule). */
  async list(): Promise<readonly ScheduleRecord[]> {
    return (await this.#store.listSchedules()).map((s) => ({
      ...s,
      cron: s.cron ?? null,
      timeZone: s.timeZone ?? null,
    }));
  }

  /**
   * Runs a schedule now, out of cadence; refused with `PLUGBOARD_SCHEDULE_RUNNING` while a run is in progress.
   * Its tasks run as `options.user` (the person who asked), as the system user without it.
   */
  async trigger(id: string, options: { readonly user?: PlugboardUser } = {}): Promise<ExecuteResult> {
    this.#lifecycle.requireStarted();
    return { tasks: await this.#schedules.trigger(id, options.user) };
  }
}
