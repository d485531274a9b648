import type { PluginPoint } from '../plugin.js';
import type { PluginRegistry } from '../plugins/registry.js';

/** Plugin points: `host.points`. */
export class HostPoints {
  readonly #registry: PluginRegistry;

  /** Built by the host; reach it as `host.points`. @internal */
  constructor(registry: PluginRegistry) {
    this.#registry = registry;
  }

  /** The operational implementations of a plugin point, typed by the point. */
  get<T>(point: PluginPoint<T>): T[] {
    return this.#registry
      .all()
      .filter((p) => p.info.status === 'operational' && p.info.implements.includes(point.id))
      .map((p) => p.instance as unknown as T);
  }
}
