import type { PlugboardErrorCode } from '../errors.js';
import type { TaskStore } from '../store/store.js';
import {
  type DiscoveryNote,
  discoverPlugins,
  type LoadedSource,
  type PluginDiscoveryOptions,
  type PluginSource,
} from './discovery.js';
import type { PluginStatusKeeper } from './plugin-status.js';
import { flagParserFor, type PropertyResolver } from './properties.js';
import type { PluginRegistry, RegisteredPlugin } from './registry.js';
import { validatePluginClass } from './validation.js';

/** A source that failed before any plugin id could be read from it (a syntax error, a duplicate id...). */
export interface BootReportFailure {
  /** The file, package or class that failed. */
  readonly source: PluginSource;
  /** Why, as a stable code. */
  readonly code: PlugboardErrorCode;
  /** Why, in a sentence a person can act on. */
  readonly reason: string;
}

/** What loading the plugins at start works with. */
export interface PluginLoadingOptions {
  readonly discovery: PluginDiscoveryOptions;
  readonly cwd: string;
  readonly argv: readonly string[];
  readonly properties: PropertyResolver;
  readonly registry: PluginRegistry;
  readonly status: PluginStatusKeeper;
  readonly store: TaskStore;
  /** Called for each plugin registered, with the module file it came from when discovery knows it. */
  readonly registered?: (plugin: RegisteredPlugin, file: string | undefined) => void;
}

/** What the plugins' start came to. */
export interface LoadedPlugins {
  /** Every source discovery found, loaded. */
  readonly sources: readonly LoadedSource[];
  /** What discovery skipped on purpose. */
  readonly notes: readonly DiscoveryNote[];
  /** Sources and classes that could not be registered at all. */
  readonly failures: readonly BootReportFailure[];
}

/**
 * The plugins' part of the start: discover -> load -> validate into the registry -> readiness (or the disabled
 * state the catalogue keeps) -> catalogue and `plugin:status`. A broken plugin ends in a named state, never fatal.
 */
export async function loadPlugins(options: PluginLoadingOptions): Promise<LoadedPlugins> {
  const { registry, status, store, properties } = options;
  const { sources, notes } = await discoverPlugins(options.discovery, options.cwd);
  const flags = flagParserFor(
    options.argv,
    sources.flatMap((s) => s.classes),
  );
  const failures: BootReportFailure[] = [];
  for (const loaded of sources) {
    if (loaded.error) {
      failures.push({ source: loaded.source, code: loaded.error.code, reason: loaded.error.message });
      continue;
    }
    for (const cls of loaded.classes) {
      const { plugin, error } = validatePluginClass(
        cls,
        loaded.source,
        loaded.loadMs,
        { properties, flags },
        (id) => registry.get(id),
      );
      if (plugin) {
        registry.add(plugin);
        options.registered?.(plugin, loaded.file);
      }
      if (error) failures.push({ source: loaded.source, code: error.code, reason: error.message });
    }
  }

  const catalogue = new Map((await store.listPluginEntries()).map((e) => [e.id, e]));
  await Promise.all(
    registry.all().map(async (plugin) => {
      if (plugin.info.status === 'checking') await status.settle(plugin, catalogue.get(plugin.info.id));
    }),
  );
  for (const plugin of registry.all()) {
    await status.save(plugin, catalogue.get(plugin.info.id));
    status.announce(plugin, null);
  }
  return { sources, notes, failures };
}
