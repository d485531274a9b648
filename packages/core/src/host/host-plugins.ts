import { resolve } from 'node:path';
import { PlugboardError } from '../errors.js';
import { invalidOption } from '../option-checks.js';
import { knownPlugin } from '../plugins/plugin-lookup.js';
import { type PluginReload, reloadError } from '../plugins/plugin-reloader.js';
import type { PluginStatusKeeper } from '../plugins/plugin-status.js';
import type { WatchOptions } from '../plugins/plugin-watcher.js';
import type { PluginInfo, PluginRegistry, RegisteredPlugin } from '../plugins/registry.js';
import type { ScheduleManager } from '../schedules/background-schedules.js';
import type { PlugboardUser } from '../task.js';
import type { BootReportFailure } from './boot-report.js';
import type { HostLifecycle } from './host-lifecycle.js';
import { checkWatchOptions } from './host-options.js';
import type { HostReloading } from './host-reloading.js';
import type { PluginExecutor } from './plugin-executor.js';

import type { PluginIsolationView } from './plugin-isolation.js';
/** What {@link HostPlugins} works with. */
export interface HostPluginsOptions<User extends PlugboardUser> {
  readonly registry: PluginRegistry;
  readonly lifecycle: HostLifecycle;
  readonly status: PluginStatusKeeper;
  readonly reloading: HostReloading;
  readonly schedules: ScheduleManager;
  readonly executor: PluginExecutor<User>;
  /** Adds where each plugin's tasks run to what is listed. */
  readonly isolation: PluginIsolationView;
  /** The folder relative module paths are found from, read when they are needed. */
  cwd(): string;
}

/** Reading and administering plugins: `host.plugins`. */
export class HostPlugins<User extends PlugboardUser = PlugboardUser> {
  readonly #options: HostPluginsOptions<User>;

  /** Built by the host; reach it as `host.plugins`. @internal */
  constructor(options: HostPluginsOptions<User>) {
    this.#options = options;
  }

  /** Every plugin with metadata, schemas, status and reason, sorted for menus. */
  list(): PluginInfo[] {
    return this.#options.registry.list().map((info) => this.#options.isolation.info(info));
  }

  /** One plugin, or `undefined`. */
  get(id: string): PluginInfo | undefined {
    const info = this.#options.registry.get(id)?.info;
    return info && this.#options.isolation.info(info);
  }

  /** Sources that failed before a plugin id could be read (syntax errors, duplicate ids...). */
  failures(): readonly BootReportFailure[] {
    return this.#options.reloading.failures;
  }

  /** Disables a plugin; it stays disabled across restarts with a persistent store. */
  async disable(id: string): Promise<PluginInfo> {
    return this.#setEnabled(id, false);
  }

  /** Enables a disabled plugin and checks its readiness again. */
  async enable(id: string): Promise<PluginInfo> {
    return this.#setEnabled(id, true);
  }

  /**
   * Whether `user` may execute plugin `id` now: the plugin is operational and the `authorize` hook (or the
   * default permission check) allows it. Routers and menus use it to show only what a user can run.
   */
  async mayExecute(user: User, id: string): Promise<boolean> {
    const plugin = this.#options.registry.get(id);
    if (plugin?.info.status !== 'operational') return false;
    try {
      await this.#options.executor.authorize(user, plugin);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Loads the plugin's module again and swaps in its new version without restarting the host: the module is
   * re-imported, its plugins validated and their readiness checked. Tasks already running finish with the old
   * version; tasks that start later are built from the new task classes of the same name. Other plugins of
   * the same module are reloaded with it, and the reload is recorded in the boot report's `reloads` and
   * announced as `plugin:reloaded`. Only plugins from the plugin folders (`plugins.dirs`) can be reloaded.
   *
   * Resolves with the plugin's new info. When the new version does not load or validate, the old one keeps
   * running and the promise rejects with the reason's code (such as `PLUGBOARD_PLUGIN_LOAD_FAILED`); when the
   * module no longer exports the plugin, it is removed and the promise rejects with `PLUGBOARD_UNKNOWN_PLUGIN`.
   */
  async reload(id: string): Promise<PluginInfo> {
    this.#options.lifecycle.requireStarted();
    const plugin = this.#known(id);
    const reloader = this.#options.reloading.reloader!;
    const file = reloader.fileOf(plugin);
    if (file === undefined) {
      const { type, location } = plugin.info.source;
      throw new PlugboardError(
        'PLUGBOARD_PLUGIN_NOT_RELOADABLE',
        `Plugin \`${id}\` comes from ${type === 'class' ? `the class \`${location}\` passed in plugins.classes` : `the installed package \`${location}\``}: only plugins from plugin folders (plugins.dirs) are reloaded; restart the host to load a new version.`,
      );
    }
    const reload = await reloader.reloadFile(file);
    const error = reloadError(id, reload);
    if (error) throw error;
    return this.#known(id).info;
  }

  /**
   * Reloads the plugin module at `path`, a file in a plugin folder (or in a sub-folder plugin): its plugins are
   * swapped for their new versions, a module the host had not loaded is added, and the plugins of a deleted one
   * are removed. Resolves with what happened, also when the module failed to load (the old version then keeps
   * running); rejects with `PLUGBOARD_PLUGIN_NOT_RELOADABLE` for a path outside the plugin folders.
   */
  async reloadFile(path: string): Promise<PluginReload> {
    this.#options.lifecycle.requireStarted();
    if (typeof path !== 'string' || path.length === 0) throw invalidOption('path', 'a file path', path);
    return this.#options.reloading.reloader!.reloadFile(resolve(this.#options.cwd(), path));
  }

  /**
   * Watches the plugin folders (`plugins.dirs`, recursively with `fs.watch`) and reloads a plugin module when
   * it changes, is added or is deleted, as `reloadFile()` does. Meant for development: each reload of an ES
   * module keeps the old one in memory. Called before `start()`, watching begins once the host has started;
   * it ends with `unwatch()` or `stop()`. Returns the folders watched (or to be watched); the watcher never
   * keeps the process alive by itself.
   */
  watch(options: WatchOptions = {}): readonly string[] {
    const checked = checkWatchOptions('options', options) ?? {};
    const { lifecycle } = this.#options;
    if (lifecycle.state === 'stopping' || lifecycle.state === 'stopped') lifecycle.requireStarted();
    return this.#options.reloading.watch(checked);
  }

  /** Stops watching the plugin folders; a reload already under way finishes. */
  unwatch(): void {
    this.#options.reloading.unwatch();
  }

  /** Runs a plugin's readiness check again (for example after the thing it waited for is fixed). */
  async recheck(id: string): Promise<PluginInfo> {
    const plugin = this.#known(id);
    if (plugin.instance && (plugin.info.status === 'not-ready' || plugin.info.status === 'operational')) {
      await this.#options.status.recheck(plugin);
    }
    return plugin.info;
  }

  #known(id: string): RegisteredPlugin {
    return knownPlugin(this.#options.registry, id);
  }

  async #setEnabled(id: string, enabled: boolean): Promise<PluginInfo> {
    const plugin = this.#known(id);
    await this.#options.status.setEnabled(plugin, enabled);
    if (
      plugin.info.kind === 'background' &&
      plugin.info.status === 'operational' &&
      this.#options.lifecycle.started
    ) {
      await this.#options.schedules.arm(plugin);
    }
    return plugin.info;
  }
}
