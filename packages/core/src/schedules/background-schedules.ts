import type { Clock } from '../clock.js';
import { PlugboardError } from '../errors.js';
import type { BackgroundScheduleOptions } from '../plugin.js';
import type { RegisteredPlugin } from '../plugins/registry.js';
import type { RuntimeSchedules } from '../runtime/runtime.js';
import type { ScheduleRecord, TaskStore } from '../store/store.js';
import { isFinalState, type PlugboardUser, type TaskRecord } from '../task.js';
import { nextCronRun } from './cron.js';
import { TimerWheel } from './scheduler.js';

/** What the schedule manager needs from the host. */
export interface ScheduleHost {
  readonly store: TaskStore;
  readonly clock: Clock;
  /** Creates and queues one scheduled run's tasks, as `user` when a person triggered it. */
  run(plugin: RegisteredPlugin, scheduleId: string, user?: PlugboardUser): Promise<readonly TaskRecord[]>;
  plugin(id: string): RegisteredPlugin | undefined;
  reportError(error: unknown): void;
  /** The runtime's schedules, when it keeps them itself: then the manager arms no timer of its own. */
  readonly runtime?: RuntimeSchedules;
}

/**
 * Keeps background-task plugins' schedules: arms them at start with replace-existing semantics, fires them on one
 * timer, repeats them whatever the last run's outcome, and refuses a trigger while a run is in progress.
 */
export class ScheduleManager {
  readonly #host: ScheduleHost;
  readonly #wheel: TimerWheel;
  /** Unfinished task ids of each schedule's current run. */
  readonly #active = new Map<string, Set<string>>();
  /** Firings and triggers under way: `settle` waits for them, so each is recorded before the store closes. */
  readonly #running = new Set<Promise<unknown>>();
  /** Set by `stop`: firings that come due from then on are skipped. */
  #stopped = false;

  constructor(host: ScheduleHost) {
    this.#host = host;
    this.#wheel = new TimerWheel(host.clock, (id, dueAt) => {
      this.#track(this.#fire(id, dueAt)).catch((error) => host.reportError(error));
    });
  }

  /** Arms the schedule of an operational background-task plugin. */
  async arm(plugin: RegisteredPlugin): Promise<ScheduleRecord> {
    const { store, clock, runtime } = this.#host;
    const options = plugin.info.schedule!;
    const id = plugin.info.id;
    const now = clock.now();
    const existing = await store.getSchedule(id);
    if (existing) await this.#adoptUnfinishedRun(existing);
    let schedule: ScheduleRecord;
    if (runtime) {
      const kept = existing && !options.replaceExistingTasks;
      // The runtime's schedule is the one in force: it may be shared with other processes, or outlive this store.
      const held = await runtime.arm({
        id,
        pluginId: id,
        delaySeconds: options.delaySeconds,
        repeatSeconds: options.repeatSeconds,
        ...(options.cron === null ? {} : { cron: options.cron, timeZone: options.timeZone }),
        replaceExisting: options.replaceExistingTasks,
        firstRunAt: kept ? existing.nextRunAt : firstRunAt(options, now),
      });
      schedule = {
        id,
        pluginId: id,
        lastRunAt: null,
        lastTaskIds: [],
        lastState: null,
        runs: 0,
        createdAt: now,
        ...existing,
        delaySeconds: held.delaySeconds,
        repeatSeconds: held.repeatSeconds,
        cron: held.cron ?? null,
        timeZone: held.cron ? (held.timeZone ?? 'UTC') : null,
        nextRunAt: held.nextRunAt,
        updatedAt: now,
      };
      await store.saveSchedule(schedule);
      return schedule;
    }
    if (existing && !options.replaceExistingTasks) {
      schedule = existing;
    } else {
      schedule = {
        id,
        pluginId: id,
        delaySeconds: options.delaySeconds,
        repeatSeconds: options.repeatSeconds,
        cron: options.cron,
        timeZone: options.timeZone,
        nextRunAt: firstRunAt(options, now),
        lastRunAt: existing?.lastRunAt ?? null,
        lastTaskIds: existing?.lastTaskIds ?? [],
        lastState: existing?.lastState ?? null,
        runs: existing?.runs ?? 0,
        createdAt: now,
        updatedAt: now,
      };
      await store.saveSchedule(schedule);
    }
    this.#wheel.set(id, schedule.nextRunAt);
    return schedule;
  }

  /**
   * Takes a schedule off this host's timer (its plugin was removed or is no longer a background plugin); the
   * stored record stays as history. A schedule the runtime keeps still fires there, and the firing is reported
   * as an error while the plugin is not operational.
   */
  disarm(id: string): void {
    this.#wheel.set(id, null);
  }

  /** Runs a schedule now, out of cadence (as `user` when given); refused while a run is in progress. */
  async trigger(id: string, user?: PlugboardUser): Promise<readonly TaskRecord[]> {
    const schedule = await this.#host.store.getSchedule(id);
    if (!schedule) {
      throw new PlugboardError(
        'PLUGBOARD_UNKNOWN_SCHEDULE',
        `No schedule has id \`${id}\`; list them with host.schedules.list().`,
      );
    }
    if (this.isRunning(id)) {
      throw new PlugboardError(
        'PLUGBOARD_SCHEDULE_RUNNING',
        `Schedule \`${id}\` has a run in progress; wait for it to finish or cancel its tasks.`,
        { details: { taskIds: [...(this.#active.get(id) ?? [])] } },
      );
    }
    const plugin = this.#operationalPlugin(schedule);
    return this.#track(this.#start(schedule, plugin, false, undefined, user));
  }

  /**
   * Runs a due firing of a schedule the runtime keeps, as the timer would (skipped while the previous run is
   * unfinished, or once the host is stopping), and returns the schedule as stored afterwards.
   */
  async fire(id: string, dueAt: number): Promise<ScheduleRecord> {
    const { store } = this.#host;
    if (!(await store.getSchedule(id))) {
      throw new PlugboardError(
        'PLUGBOARD_UNKNOWN_SCHEDULE',
        `No schedule has id \`${id}\` on this host: is its background-task plugin installed and operational here?`,
      );
    }
    if (!this.#stopped) await this.#track(this.#fire(id, dueAt));
    return (await store.getSchedule(id))!;
  }

  /** True while tasks of the schedule's last run are unfinished. */
  isRunning(id: string): boolean {
    return (this.#active.get(id)?.size ?? 0) > 0;
  }

  /** Notes a finished task so its schedule's run can end. */
  async taskFinished(record: TaskRecord): Promise<void> {
    if (!record.scheduleId || !isFinalState(record.state)) return;
    const active = this.#active.get(record.scheduleId);
    active?.delete(record.id);
    const schedule = await this.#host.store.getSchedule(record.scheduleId);
    if (schedule?.lastTaskIds.includes(record.id)) {
      await this.#host.store.saveSchedule({
        ...schedule,
        lastState: record.state,
        updatedAt: this.#host.clock.now(),
      });
    }
  }

  /** Stops the timer; firings that come due from now on are skipped. Those under way go on (see `settle`). */
  stop(): void {
    this.#stopped = true;
    this.#wheel.stop();
  }

  /**
   * Waits, for up to `timeoutMs`, for the firings and triggers under way to be recorded: a run whose tasks were
   * queued is then counted in its schedule before the host stops its runtime and closes its store.
   */
  async settle(timeoutMs: number): Promise<void> {
    // Nothing joins them once `stop` has run: the timer is off, `fire` skips, and a stopping host refuses triggers.
    if (this.#running.size === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.allSettled([...this.#running]),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Keeps `work` among the runs under way until it settles. */
  #track<T>(work: Promise<T>): Promise<T> {
    this.#running.add(work);
    const done = () => this.#running.delete(work);
    work.then(done, done);
    return work;
  }

  #operationalPlugin(schedule: ScheduleRecord): RegisteredPlugin {
    const plugin = this.#host.plugin(schedule.pluginId);
    if (plugin?.info.status !== 'operational') {
      throw new PlugboardError(
        'PLUGBOARD_PLUGIN_NOT_OPERATIONAL',
        `Schedule \`${schedule.id}\` belongs to plugin \`${schedule.pluginId}\`, which is ${plugin ? plugin.info.status : 'not installed'}${plugin?.info.reason ? `: ${plugin.info.reason.replace(/\.$/, '')}` : ''}.`,
      );
    }
    return plugin;
  }

  async #fire(id: string, dueAt: number): Promise<void> {
    const schedule = await this.#host.store.getSchedule(id);
    if (!schedule) return;
    let plugin: RegisteredPlugin;
    try {
      plugin = this.#operationalPlugin(schedule);
    } catch (error) {
      this.#host.reportError(error);
      return;
    }
    if (this.isRunning(id) || (this.#host.runtime && (await this.#lastRunUnfinished(schedule)))) {
      // The previous run is still going: skip this firing rather than overlap, and keep the cadence.
      await this.#reschedule(schedule, dueAt);
      return;
    }
    await this.#start(schedule, plugin, true, dueAt);
  }

  async #start(
    schedule: ScheduleRecord,
    plugin: RegisteredPlugin,
    onCadence: boolean,
    dueAt?: number,
    user?: PlugboardUser,
  ): Promise<readonly TaskRecord[]> {
    const { store, clock } = this.#host;
    const now = clock.now();
    let records: readonly TaskRecord[] = [];
    let failure: unknown;
    try {
      records = await this.#host.run(plugin, schedule.id, user);
    } catch (error) {
      failure = error;
    }
    // Marked running before anything is awaited, so `taskFinished` sees every task that finishes from here on.
    const active = new Set(records.map((r) => r.id));
    if (active.size > 0) this.#active.set(schedule.id, active);
    // Counted on the record as it is now, not as it was when the firing began: another process sharing the store
    // may have recorded a firing of its own while this one's tasks were created.
    const current = (await store.getSchedule(schedule.id)) ?? schedule;
    let next: ScheduleRecord = {
      ...current,
      lastRunAt: now,
      lastTaskIds: records.map((r) => r.id),
      lastState: failure ? 'failed' : records.length === 0 ? 'succeeded' : 'queued',
      runs: current.runs + 1,
      nextRunAt: onCadence ? this.#nextRun(current, dueAt ?? now) : current.nextRunAt,
      updatedAt: now,
    };
    await store.saveSchedule(next);
    // A task may have finished before this run was stored (a fast task, a remote runtime): settle it here.
    let latest: TaskRecord | undefined;
    for (const record of records) {
      const current = await store.getTask(record.id);
      if (!current || !isFinalState(current.state)) continue;
      active.delete(record.id);
      if (!latest || (current.finishedAt ?? 0) >= (latest.finishedAt ?? 0)) latest = current;
    }
    if (latest) {
      next = { ...((await store.getSchedule(schedule.id)) ?? next), lastState: latest.state };
      await store.saveSchedule(next);
    }
    if (onCadence && !this.#host.runtime) this.#wheel.set(schedule.id, next.nextRunAt);
    if (failure && !onCadence) throw failure;
    if (failure) this.#host.reportError(failure);
    return records;
  }

  async #reschedule(schedule: ScheduleRecord, dueAt: number): Promise<void> {
    const nextRunAt = this.#nextRun(schedule, dueAt);
    await this.#host.store.saveSchedule({ ...schedule, nextRunAt, updatedAt: this.#host.clock.now() });
    if (!this.#host.runtime) this.#wheel.set(schedule.id, nextRunAt);
  }

  /**
   * Whether a task of the schedule's last run is unfinished in the store. A runtime that keeps schedules may fire
   * them in another process sharing it, whose runs this manager did not start itself.
   */
  async #lastRunUnfinished(schedule: ScheduleRecord): Promise<boolean> {
    for (const id of schedule.lastTaskIds) {
      const record = await this.#host.store.getTask(id);
      if (record && !isFinalState(record.state)) return true;
    }
    return false;
  }

  /**
   * After a restart, the tasks of the last run that a previous process left unfinished (queued again by crash
   * recovery) are this schedule's run in progress: no firing overlaps them, whatever `replaceExistingTasks` says.
   */
  async #adoptUnfinishedRun(schedule: ScheduleRecord): Promise<void> {
    const unfinished = new Set<string>();
    for (const id of schedule.lastTaskIds) {
      const record = await this.#host.store.getTask(id);
      if (record && !isFinalState(record.state)) unfinished.add(id);
    }
    if (unfinished.size === 0) return;
    this.#active.set(schedule.id, unfinished);
    // One may have ended while the others were read: `taskFinished` only removes what is already adopted.
    for (const id of [...unfinished]) {
      const record = await this.#host.store.getTask(id);
      if (!record || isFinalState(record.state)) unfinished.delete(id);
    }
  }

  /** The next due time after `dueAt` (for a cron schedule: its next time after now), skipping periods missed while the host was busy or down. */
  #nextRun(schedule: ScheduleRecord, dueAt: number): number | null {
    const now = this.#host.clock.now();
    if (schedule.cron) return nextCronRun(schedule.cron, schedule.timeZone ?? 'UTC', Math.max(dueAt, now));
    if (schedule.repeatSeconds <= 0) return null;
    const period = schedule.repeatSeconds * 1000;
    let next = dueAt + period;
    if (next <= now) next += Math.ceil((now - next) / period) * period;
    return next;
  }
}

/** When a newly armed schedule first fires: its next cron time, or `delaySeconds` from now. */
function firstRunAt(options: BackgroundScheduleOptions, now: number): number | null {
  if (options.cron !== null) return nextCronRun(options.cron, options.timeZone ?? 'UTC', now);
  return now + options.delaySeconds * 1000;
}
