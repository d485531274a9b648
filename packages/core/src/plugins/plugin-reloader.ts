import { existsSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import type { Clock } from '../clock.js';
import { describeThrown, PlugboardError, type PlugboardErrorCode } from '../errors.js';
import type { PluginClass } from '../plugin.js';
import {
  type DiscoveryNote,
  type LoadedSource,
  type PluginFolderEntry,
  type PluginSource,
  reloadFolderEntry,
  scanPluginFolder,
} from './discovery.js';
import { type FolderChanges, PluginFolderWatcher, type WatchOptions } from './plugin-watcher.js';
import type { FlagParser, PropertyResolver } from './properties.js';
import { PluginRegistry, type RegisteredPlugin } from './registry.js';
import { validatePluginClass } from './validation.js';

/** Something a reload refused, with the reason a person can act on. */
export interface PluginReloadProblem {
  /** The plugin concerned, or `null` when the module as a whole failed (a syntax error, a failing import). */
  readonly pluginId: string | null;
  /** Why, as a stable code. */
  readonly code: PlugboardErrorCode;
  /** Why, in a sentence a person can act on. */
  readonly reason: string;
}

/** One reload of a plugin module while the host ran: what changed, and what was refused. */
export interface PluginReload {
  /** When the reload began, in milliseconds since the epoch (the host's clock). */
  readonly at: number;
  /** How long loading, validating and the readiness checks took, in milliseconds. */
  readonly durationMs: number;
  /** The module file reloaded (for a file that was deleted: the file it was). */
  readonly source: PluginSource;
  /** `watch`: the folder watcher saw the file change; `request`: `host.plugins.reload()` or `reloadFile()`. */
  readonly trigger: 'watch' | 'request';
  /**
   * `reloaded` when every plugin of the module is in its new version (or removed with its file); `failed` when
   * the module did not load or a plugin of it was refused: `problems` says why, `kept` what still runs as before.
   */
  readonly outcome: 'reloaded' | 'failed';
  /** Plugins whose new version replaced the old one. */
  readonly reloaded: readonly string[];
  /** Plugins the module brought that the host did not have. */
  readonly added: readonly string[];
  /** Plugins that are gone: their file was deleted, or the module no longer exports them. */
  readonly removed: readonly string[];
  /** Plugins whose old version keeps running because their new version failed to load or validate. */
  readonly kept: readonly string[];
  /** What failed, if anything. */
  readonly problems: readonly PluginReloadProblem[];
}

/** What the reloader needs from the host. */
export interface ReloadHost {
  readonly registry: PluginRegistry;
  readonly clock: Clock;
  /** How long one module may take to load, in milliseconds. */
  readonly loadTimeoutMs: number;
  /** Follow symbolic links out of a plugin folder. */
  readonly followSymlinks: boolean;
  /** True while the host takes work: reloads found by the watcher are skipped otherwise. */
  isStarted(): boolean;
  /** What validating the classes of one module needs: the host's property sources and its start-up flags. */
  validation(classes: readonly PluginClass[]): { properties: PropertyResolver; flags: FlagParser };
  /** Settles a valid new version before it is swapped in: its readiness, or the disabled state it keeps. */
  prepare(plugin: RegisteredPlugin): Promise<void>;
  /** Puts a plugin just swapped in into service: catalogue, `plugin:status`, background schedule. */
  activate(plugin: RegisteredPlugin, previous: RegisteredPlugin | undefined): Promise<void>;
  /** Takes a plugin just removed out of service: its background schedule stops. */
  deactivate(plugin: RegisteredPlugin): void;
  /** Replaces what `host.plugins.failures()` lists for these module files. */
  replaceFailures(
    locations: readonly string[],
    problems: readonly PluginReloadProblem[],
    source: PluginSource,
  ): void;
  /** Records and announces a finished reload. */
  reloaded(reload: PluginReload): void;
  reportError(error: unknown): void;
}

/** Reloads kept in the boot report; older ones are dropped. */
export const MAX_RELOADS_KEPT = 100;
/** @default of {@link WatchOptions.debounceMs}. */
export const DEFAULT_DEBOUNCE_MS = 100;

/**
 * Reloads plugin modules from the host's plugin folders while it runs: on request, and from a folder watcher.
 * Reloads run one at a time. A new version is swapped in only once it loaded and validated; until then (and
 * when it fails) the old version keeps running. Running tasks keep the task object they were built with.
 */
export class PluginReloader {
  readonly #host: ReloadHost;
  readonly #roots: readonly string[];
  /** Every module file loaded from a plugin folder, by file path. */
  readonly #entries = new Map<string, PluginFolderEntry>();
  #queue: Promise<unknown> = Promise.resolve();
  #watcher: PluginFolderWatcher | undefined;

  constructor(host: ReloadHost, roots: readonly string[], sources: readonly LoadedSource[]) {
    this.#host = host;
    this.#roots = roots;
    for (const source of sources) if (source.folder) this.#entries.set(source.folder.file, source.folder);
  }

  /** The folders watched now; empty when the watcher is off. */
  get watched(): readonly string[] {
    return this.#watcher?.folders ?? [];
  }

  /**
   * Watches the plugin folders; a folder that cannot be watched (it does not exist) is reported through
   * `reportError` and left out. Returns the folders watched.
   */
  watch(options: WatchOptions): readonly string[] {
    this.#watcher?.close();
    const watcher = new PluginFolderWatcher({
      debounceMs: options.debounceMs ?? DEFAULT_DEBOUNCE_MS,
      onChanges: (changes) => {
        this.#changed(changes).catch((error) => this.#host.reportError(error));
      },
      onError: (error) => this.#host.reportError(error),
    });
    for (const root of this.#roots) {
      try {
        watcher.add(root);
      } catch (error) {
        this.#host.reportError(
          new PlugboardError(
            'PLUGBOARD_INVALID_OPTION',
            `The plugin folder \`${root}\` cannot be watched: ${describeThrown(error)}.`,
            { cause: error },
          ),
        );
      }
    }
    this.#watcher = watcher;
    return watcher.folders;
  }

  /** Stops watching; reloads already under way finish. */
  unwatch(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  /** Stops watching and waits for the reload under way, if any. */
  async close(): Promise<void> {
    this.unwatch();
    await this.#queue.catch(() => {});
  }

  /** The module file a plugin came from, when it came from a plugin folder. */
  fileOf(plugin: RegisteredPlugin): string | undefined {
    const { source } = plugin.info;
    return source.type === 'file' && this.#entries.has(source.location) ? source.location : undefined;
  }

  /**
   * Reloads the module `path` names: a module file of a plugin folder, or any file of a sub-folder plugin. A
   * new module is added, a deleted one removed.
   */
  reloadFile(path: string): Promise<PluginReload> {
    const file = resolve(path);
    const known = this.#entries.get(file);
    const root = known?.root ?? this.#roots.find((r) => isStrictlyInside(file, r));
    const name = known?.name ?? (root ? relative(root, file).split(sep)[0] : undefined);
    if (!root || !name) {
      return Promise.reject(
        new PlugboardError(
          'PLUGBOARD_PLUGIN_NOT_RELOADABLE',
          `\`${file}\` is not in a plugin folder of this host (plugins.dirs: ${this.#roots.map((r) => `\`${r}\``).join(', ') || 'none'}); only modules of plugin folders are reloaded.`,
        ),
      );
    }
    return this.#serial(async () => {
      const reloads = await this.#sync(root, new Set([name]), 'request', name);
      const reload = reloads[0];
      if (!reload) {
        throw new PlugboardError(
          'PLUGBOARD_PLUGIN_NOT_RELOADABLE',
          `\`${file}\` is not a plugin module: a plugin folder holds JavaScript or TypeScript modules and sub-folders with an entry module.`,
        );
      }
      return reload;
    });
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => {});
    return run;
  }

  async #changed(changes: readonly FolderChanges[]): Promise<void> {
    await this.#serial(async () => {
      for (const { root, names } of changes) {
        if (!this.#host.isStarted()) return;
        await this.#sync(root, names, 'watch');
      }
    });
  }

  /**
   * Compares a plugin folder with what is loaded from it, and reloads the entries named in `names`, adds new
   * ones and removes deleted ones (also those the watcher missed). With `only`, just that entry is looked at.
   */
  async #sync(
    root: string,
    names: ReadonlySet<string>,
    trigger: PluginReload['trigger'],
    only?: string,
  ): Promise<PluginReload[]> {
    // A folder that is gone for a moment (a branch switch) must not unload every plugin it held.
    if (!existsSync(root)) {
      const error = new PlugboardError(
        'PLUGBOARD_PLUGIN_LOAD_FAILED',
        `The plugin folder \`${root}\` is gone; its plugins stay loaded as they were.`,
      );
      if (trigger === 'request') throw error;
      this.#host.reportError(error);
      return [];
    }
    const notes: DiscoveryNote[] = [];
    const scanned = await scanPluginFolder(
      root,
      { cwd: root, followSymlinks: this.#host.followSymlinks },
      notes,
    );
    const current = new Map(scanned.map((entry) => [entry.name, entry]));
    const known = new Map([...this.#entries.values()].filter((e) => e.root === root).map((e) => [e.name, e]));
    const candidates = new Set<string>();
    for (const name of names) if (current.has(name) || known.has(name)) candidates.add(name);
    if (only === undefined) {
      for (const name of current.keys()) if (!known.has(name)) candidates.add(name);
      for (const name of known.keys()) if (!current.has(name)) candidates.add(name);
    }
    const reloads: PluginReload[] = [];
    for (const name of [...candidates].sort()) {
      if (only !== undefined && name !== only) continue;
      reloads.push(await this.#reloadEntry(known.get(name), current.get(name), trigger));
    }
    return reloads;
  }

  /** Moves one folder entry from its loaded version `previous` to what the folder holds now, `next`. */
  async #reloadEntry(
    previous: PluginFolderEntry | undefined,
    next: PluginFolderEntry | undefined,
    trigger: PluginReload['trigger'],
  ): Promise<PluginReload> {
    const host = this.#host;
    const started = performance.now();
    const at = host.clock.now();
    const file = (next ?? previous)!.file;
    const source: PluginSource = { type: 'file', location: file };
    const locations = [...new Set([previous?.file, next?.file].filter((f): f is string => f !== undefined))];
    const old = previous ? this.#pluginsOf(previous.file) : [];
    const reloaded: string[] = [];
    const added: string[] = [];
    const removed: string[] = [];
    const kept: string[] = [];
    const problems: PluginReloadProblem[] = [];
    const finish = (): PluginReload => {
      const reload: PluginReload = {
        at,
        durationMs: performance.now() - started,
        source,
        trigger,
        outcome: problems.length > 0 ? 'failed' : 'reloaded',
        reloaded,
        added,
        removed,
        kept,
        problems,
      };
      host.replaceFailures(
        locations,
        problems.filter((p) => p.pluginId === null),
        source,
      );
      host.reloaded(reload);
      return reload;
    };

    if (!next) {
      for (const plugin of old) this.#remove(plugin, removed);
      this.#entries.delete(previous!.file);
      return finish();
    }
    if (previous && previous.file !== next.file) this.#entries.delete(previous.file);
    this.#entries.set(next.file, next);

    const loaded = await reloadFolderEntry(next, host.loadTimeoutMs);
    if (loaded.error) {
      problems.push({ pluginId: null, code: loaded.error.code, reason: loaded.error.message });
      kept.push(...old.map((p) => p.info.id));
      return finish();
    }

    const scratch = new PluginRegistry();
    const validation = host.validation(loaded.classes);
    const candidates: RegisteredPlugin[] = [];
    for (const cls of loaded.classes) {
      const { plugin, error } = validatePluginClass(cls, source, loaded.loadMs, validation, (id) =>
        scratch.get(id),
      );
      if (error) problems.push({ pluginId: null, code: error.code, reason: error.message });
      else if (plugin) {
        scratch.add(plugin);
        candidates.push(plugin);
      }
    }
    const oldIds = new Set(old.map((p) => p.info.id));
    const present = new Set<string>();
    for (const candidate of candidates) {
      const id = candidate.info.id;
      const existing = host.registry.get(id);
      if (existing && !oldIds.has(id)) {
        problems.push({
          pluginId: null,
          code: 'PLUGBOARD_DUPLICATE_PLUGIN_ID',
          reason: `Plugin id \`${id}\` (${file}) is already used by the plugin from ${existing.info.source.location}; that one was kept. Give each plugin its own id.`,
        });
        continue;
      }
      present.add(id);
      const usable = candidate.info.status === 'checking';
      if (!usable) {
        problems.push({ pluginId: id, code: candidate.info.code!, reason: candidate.info.reason ?? '' });
        // An old version that works keeps running rather than being replaced by one that cannot.
        if (existing?.instance) {
          kept.push(id);
          continue;
        }
      } else {
        await host.prepare(candidate);
      }
      host.registry.replace(candidate);
      (existing ? reloaded : added).push(id);
      await host.activate(candidate, existing);
    }
    // A class whose id could not be read may be one of the old plugins: none is removed on a guess.
    const unidentified = problems.some(
      (p) => p.pluginId === null && p.code !== 'PLUGBOARD_DUPLICATE_PLUGIN_ID',
    );
    for (const plugin of old) {
      if (present.has(plugin.info.id)) continue;
      if (unidentified) kept.push(plugin.info.id);
      else this.#remove(plugin, removed);
    }
    return finish();
  }

  #remove(plugin: RegisteredPlugin, removed: string[]): void {
    const id = plugin.info.id;
    if (this.#host.registry.get(id) !== plugin) return;
    this.#host.registry.remove(id);
    this.#host.deactivate(plugin);
    removed.push(id);
  }

  #pluginsOf(file: string): RegisteredPlugin[] {
    return this.#host.registry
      .all()
      .filter((p) => p.info.source.type === 'file' && p.info.source.location === file);
  }
}

function isStrictlyInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel !== '' && !rel.startsWith('..') && !rel.startsWith(sep);
}

/** The error `host.plugins.reload(id)` rejects with when the new version of the plugin is not in place. */
export function reloadError(id: string, reload: PluginReload): PlugboardError | undefined {
  if (reload.removed.includes(id)) {
    return new PlugboardError(
      'PLUGBOARD_UNKNOWN_PLUGIN',
      `Plugin \`${id}\` is gone: ${reload.source.location} no longer exports it, so it was removed.`,
    );
  }
  if (!reload.kept.includes(id)) return undefined;
  const problem =
    reload.problems.find((p) => p.pluginId === id) ?? reload.problems.find((p) => p.pluginId === null);
  return new PlugboardError(
    problem?.code ?? 'PLUGBOARD_PLUGIN_LOAD_FAILED',
    `Reloading plugin \`${id}\` failed, so its previous version keeps running: ${problem?.reason ?? 'no reason given'}`,
    { details: { reload } },
  );
}
