import { resolve } from 'node:path';
import type { EventEmitter } from 'eventemitter3';
import type { Clock } from '../clock.js';
import type { HostEvents } from '../events.js';
import type { PluginClass } from '../plugin.js';
import type { LoadedSource, PluginSource } from '../plugins/discovery.js';
import {
  MAX_RELOADS_KEPT,
  type PluginReload,
  PluginReloader,
  type PluginReloadProblem,
  type ReloadHost,
} from '../plugins/plugin-reloader.js';
import type { PluginStatusKeeper } from '../plugins/plugin-status.js';
import type { WatchOptions } from '../plugins/plugin-watcher.js';
import { flagParserFor, type PropertyResolver } from '../plugins/properties.js';
import type { PluginRegistry, RegisteredPlugin } from '../plugins/registry.js';
import type { PluginValidationSources } from '../plugins/validation.js';
import type { ScheduleManager } from '../schedules/background-schedules.js';
import type { TaskStore } from '../store/store.js';
import type { BootReportFailure } from './boot-report.js';
import type { HostLifecycle } from './host-lifecycle.js';

import type { PluginIsolationView } from './plugin-isolation.js';
/** What {@link HostReloading} works with. */
export interface HostReloadingOptions {
  readonly registry: PluginRegistry;
  readonly store: TaskStore;
  readonly clock: Clock;
  readonly events: EventEmitter<HostEvents>;
  readonly lifecycle: HostLifecycle;
  readonly status: PluginStatusKeeper;
  readonly schedules: ScheduleManager;
  /** The folder relative plugin folders are found from, read when they are needed. */
  cwd(): string;
  /** The plugin folders, as given. */
  readonly dirs: readonly string[];
  readonly argv: readonly string[];
  readonly loadTimeoutMs: number;
  readonly followSymlinks: boolean;
  /** Checks a reloaded plugin's isolation and access declarations. */
  readonly isolation?: PluginIsolationView;
  reportError(error: unknown): void;
}

/**
 * The host's side of plugin reloading: the reloader's adapter (validate, check, swap and announce plugins), the
 * folder watch asked for, the sources that failed, and the reloads so far.
 */
export class HostReloading implements ReloadHost {
  readonly #options: HostReloadingOptions;
  #reloader: PluginReloader | undefined;
  #properties: PropertyResolver | undefined;
  /** Watch options asked for before the start (the `watch` option or `plugins.watch()`), applied by it. */
  #watchRequest: WatchOptions | undefined;
  #failures: readonly BootReportFailure[] = [];
  #reloads: readonly PluginReload[] = [];

  constructor(options: HostReloadingOptions, watch: WatchOptions | undefined) {
    this.#options = options;
    this.#watchRequest = watch;
  }

  get registry(): PluginRegistry {
    return this.#options.registry;
  }
  get clock(): Clock {
    return this.#options.clock;
  }
  get loadTimeoutMs(): number {
    return this.#options.loadTimeoutMs;
  }
  get followSymlinks(): boolean {
    return this.#options.followSymlinks;
  }

  /** The reloader, once the host has started. */
  get reloader(): PluginReloader | undefined {
    return this.#reloader;
  }

  /** Sources that failed before a plugin id could be read. */
  get failures(): readonly BootReportFailure[] {
    return this.#failures;
  }

  /** The reloads since the start, oldest first. */
  get reloads(): readonly PluginReload[] {
    return this.#reloads;
  }

  /** The plugin folders, resolved. */
  get folders(): readonly string[] {
    const cwd = this.#options.cwd();
    return this.#options.dirs.map((dir) => resolve(cwd, dir));
  }

  /** Called by the start once every source is loaded: reloads may begin. */
  begin(
    sources: readonly LoadedSource[],
    properties: PropertyResolver,
    failures: readonly BootReportFailure[],
  ): void {
    this.#properties = properties;
    this.#failures = failures;
    this.#reloader = new PluginReloader(this, this.folders, sources);
  }

  /** Starts watching when it was asked for before the start. */
  watchIfAsked(): void {
    if (this.#watchRequest) this.#reloader?.watch(this.#watchRequest);
  }

  /** Watches the plugin folders now, or once the host has started; returns the folders. */
  watch(options: WatchOptions): readonly string[] {
    this.#watchRequest = options;
    if (this.#options.lifecycle.started) return this.#reloader!.watch(options);
    return this.folders;
  }

  /** Stops watching; a reload under way finishes. */
  unwatch(): void {
    this.#watchRequest = undefined;
    this.#reloader?.unwatch();
  }

  isStarted(): boolean {
    return this.#options.lifecycle.started;
  }

  validation(classes: readonly PluginClass[]): PluginValidationSources {
    return { properties: this.#properties!, flags: flagParserFor(this.#options.argv, classes) };
  }

  async prepare(plugin: RegisteredPlugin): Promise<void> {
    this.#options.isolation?.check(plugin, undefined);
    const entry = await this.#options.store.getPluginEntry(plugin.info.id).catch((error) => {
      this.reportError(error);
      return undefined;
    });
    await this.#options.status.settle(plugin, entry);
  }

  async activate(plugin: RegisteredPlugin, previous: RegisteredPlugin | undefined): Promise<void> {
    const { store, status, schedules } = this.#options;
    const id = plugin.info.id;
    try {
      await status.save(plugin, await store.getPluginEntry(id));
    } catch (error) {
      this.reportError(error);
    }
    status.announce(plugin, previous?.info.status ?? null);
    if (!this.#options.lifecycle.started) return;
    try {
      if (plugin.info.kind === 'background' && plugin.info.status === 'operational') {
        await schedules.arm(plugin);
      } else if (previous?.info.kind === 'background') {
        schedules.disarm(id);
      }
    } catch (error) {
      this.reportError(error);
    }
  }

  deactivate(plugin: RegisteredPlugin): void {
    if (plugin.info.kind === 'background') this.#options.schedules.disarm(plugin.info.id);
  }

  replaceFailures(
    locations: readonly string[],
    problems: readonly PluginReloadProblem[],
    source: PluginSource,
  ): void {
    this.#failures = [
      ...this.#failures.filter((f) => !locations.includes(f.source.location)),
      ...problems.map((p) => ({ source, code: p.code, reason: p.reason })),
    ];
  }

  reloaded(reload: PluginReload): void {
    this.#reloads = [...this.#reloads.slice(-(MAX_RELOADS_KEPT - 1)), reload];
    try {
      this.#options.events.emit('plugin:reloaded', reload);
    } catch (error) {
      this.reportError(error);
    }
  }

  reportError(error: unknown): void {
    this.#options.reportError(error);
  }
}
