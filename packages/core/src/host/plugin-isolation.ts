import { describeThrown, isPlugboardError } from '../errors.js';
import type { PluginStatusKeeper } from '../plugins/plugin-status.js';
import type { PluginInfo, PluginRegistry, RegisteredPlugin } from '../plugins/registry.js';
import { subjectOf, type TaskIsolation } from '../runtime/isolated/task-isolation.js';

/**
 * The host's view of where each plugin's tasks run: checks a plugin's `isolation` and `access` declarations when
 * it is registered (an invalid one makes the plugin invalid, as a bad schema does) and adds the mode and the
 * declared and granted access to what `host.plugins` and the boot report show.
 */
export class PluginIsolationView {
  readonly #isolation: TaskIsolation;
  readonly #registry: PluginRegistry;
  readonly #status: PluginStatusKeeper;

  constructor(isolation: TaskIsolation, registry: PluginRegistry, status: PluginStatusKeeper) {
    this.#isolation = isolation;
    this.#registry = registry;
    this.#status = status;
  }

  /** Notes the module a plugin was loaded from and checks its declarations; `file` is unknown for a reload. */
  check(plugin: RegisteredPlugin, file: string | undefined): void {
    this.#isolation.knowModule(plugin.info.id, file);
    if (plugin.info.status !== 'checking') return;
    try {
      this.#isolation.describe(subjectOf(plugin));
    } catch (error) {
      this.#status.apply(plugin, {
        status: 'invalid',
        reason: isPlugboardError(error) ? error.message : describeThrown(error),
        code: 'PLUGBOARD_INVALID_PLUGIN',
      });
    }
  }

  /** A plugin's info with where its tasks run and the access it declared and was granted. */
  info(info: PluginInfo): PluginInfo {
    const plugin = this.#registry.get(info.id);
    if (!plugin) return info;
    try {
      const { mode, note, declared, granted } = this.#isolation.describe(subjectOf(plugin));
      return { ...info, isolation: { mode, note, declared, granted } };
    } catch {
      return info;
    }
  }
}
