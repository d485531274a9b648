import { PlugboardError } from '../errors.js';
import type { PluginRegistry, RegisteredPlugin } from './registry.js';

/** The registered plugin with this id; throws `PLUGBOARD_UNKNOWN_PLUGIN` when there is none. */
export function knownPlugin(registry: PluginRegistry, id: string): RegisteredPlugin {
  const plugin = registry.get(id);
  if (!plugin) {
    throw new PlugboardError(
      'PLUGBOARD_UNKNOWN_PLUGIN',
      `No plugin has id \`${String(id).slice(0, 80)}\`; host.plugins.list() shows the installed ones.`,
    );
  }
  return plugin;
}

/** The plugin with this id if it is operational; throws a coded error saying why not otherwise. */
export function operationalPlugin(registry: PluginRegistry, id: string): RegisteredPlugin {
  const plugin = knownPlugin(registry, id);
  if (plugin.info.status !== 'operational') {
    throw new PlugboardError(
      plugin.info.status === 'disabled' ? 'PLUGBOARD_PLUGIN_DISABLED' : 'PLUGBOARD_PLUGIN_NOT_OPERATIONAL',
      `Plugin \`${id}\` is ${plugin.info.status}${plugin.info.reason ? `: ${plugin.info.reason}` : '.'}`,
      { details: { status: plugin.info.status, reason: plugin.info.reason, code: plugin.info.code } },
    );
  }
  return plugin;
}
