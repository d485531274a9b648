import type { PlugboardErrorCode } from '../errors.js';
import type { BackgroundScheduleOptions, PluginBase, PluginClass, PluginKind } from '../plugin.js';
import type { PluginIsolation } from '../runtime/isolated/isolation-options.js';
import type { ObjectValidator } from '../schema.js';
import type { SecretRedactor } from '../secrets.js';
import type { TaskClass } from '../task.js';
import type { PluginSource } from './discovery.js';

/** A plugin's state: `checking` while its readiness check runs, then one of the five final states. */
export type PluginStatus = 'checking' | 'operational' | 'not-ready' | 'invalid' | 'failed' | 'disabled';

/** Time spent on each lifecycle step of one plugin, in milliseconds. */
export interface PluginTimings {
  /** Loading the module the plugin came from (shared by every plugin of that module). */
  readonly loadMs: number;
  /** Validating its definition, schemas, properties and flags, and building the instance. */
  readonly validateMs: number;
  /** Its readiness check. */
  readonly readinessMs: number;
}

/** Everything a host or a client may read about a plugin: metadata, schemas, status and reason. */
export interface PluginInfo {
  /** The plugin's unique id. */
  readonly id: string;
  /** The name people see; the id when the plugin declares none. */
  readonly name: string;
  /** What the plugin does. */
  readonly description: string | null;
  /** An icon name or URL for user interfaces. */
  readonly icon: string | null;
  /** Groups plugins in menus. */
  readonly category: string | null;
  /** Orders groups within a category. */
  readonly sortGroup: string | null;
  /** Orders plugins within a group, lowest first. @default 0 */
  readonly sortOrder: number;
  /** The plugin's own version. */
  readonly version: string | null;
  /** Permissions the executing user needs (all of them). */
  readonly permissions: readonly string[];
  /** Which base class the plugin extends. */
  readonly kind: PluginKind;
  /** For context plugins: the kind of object they act on. */
  readonly context: {
    /** The context kind's id, e.g. `book`. */
    readonly kind: string;
    /** The name of the id argument people pass, e.g. `bookId`. */
    readonly idArgument: string;
    /** Describes the id argument in forms and help. */
    readonly description: string | null;
  } | null;
  /** For background-task plugins: their schedule options. */
  readonly schedule: BackgroundScheduleOptions | null;
  /** Ids of the plugin points it implements. */
  readonly implements: readonly string[];
  /** Its state now. */
  readonly status: PluginStatus;
  /** Why the plugin is not operational, in words a person can act on. */
  readonly reason: string | null;
  /** The error code behind `reason`. */
  readonly code: PlugboardErrorCode | null;
  /** The file, package or class it came from. */
  readonly source: PluginSource;
  /** JSON Schemas: arguments (what a form is drawn from), app properties and start-up flags. */
  readonly schemas: {
    /** The arguments a person passes when executing the plugin. */
    readonly args: Record<string, unknown>;
    /** The plugin's App Properties. */
    readonly properties: Record<string, unknown>;
    /** The host start-up flags it reads. */
    readonly flags: Record<string, unknown>;
  };
  /** Time spent on each lifecycle step. */
  readonly timings: PluginTimings;
  /** Where its tasks run and the file access it declared and was granted (set by the host). */
  readonly isolation?: PluginIsolation;
}

/** A plugin the registry holds: its class, its instance once built, and compiled validators. */
export interface RegisteredPlugin {
  info: PluginInfo;
  readonly cls: PluginClass;
  /** The class's definition as read once when the plugin was added. */
  readonly definition: Readonly<Record<string, unknown>>;
  instance: PluginBase<unknown, unknown> | undefined;
  argsValidator: ObjectValidator<Record<string, unknown>> | undefined;
  properties: unknown;
  /** The values of its App Properties marked `writeOnly: true`. */
  secrets: readonly string[];
  /** Replaces those values wherever the plugin's text is stored, sent or emitted. */
  redactor: SecretRedactor;
  readonly taskTypes: Map<string, TaskClass>;
}

/** Holds every plugin the host found, in one named state each. */
export class PluginRegistry {
  readonly #plugins = new Map<string, RegisteredPlugin>();

  /** All plugins, sorted by category, group, order and name. */
  list(): PluginInfo[] {
    return [...this.#plugins.values()]
      .map((p) => p.info)
      .sort(
        (a, b) =>
          (a.category ?? '').localeCompare(b.category ?? '') ||
          (a.sortGroup ?? '').localeCompare(b.sortGroup ?? '') ||
          a.sortOrder - b.sortOrder ||
          a.name.localeCompare(b.name),
      );
  }

  /** The plugin with this id, whatever its state; `undefined` when there is none. */
  get(id: string): RegisteredPlugin | undefined {
    return this.#plugins.get(id);
  }

  /** True when a plugin has this id. */
  has(id: string): boolean {
    return this.#plugins.has(id);
  }

  /** Every plugin, in the order they were added. */
  all(): RegisteredPlugin[] {
    return [...this.#plugins.values()];
  }

  /**
   * Puts a plugin in the place of the one with the same id (keeping its place in {@link all}), or adds it when
   * there is none; returns the plugin it replaced. Used to swap in a reloaded version.
   */
  replace(plugin: RegisteredPlugin): RegisteredPlugin | undefined {
    const previous = this.#plugins.get(plugin.info.id);
    this.#plugins.set(plugin.info.id, plugin);
    return previous;
  }

  /** Takes the plugin with this id out of the registry; returns it, or `undefined` when there was none. */
  remove(id: string): RegisteredPlugin | undefined {
    const plugin = this.#plugins.get(id);
    this.#plugins.delete(id);
    return plugin;
  }

  /** Adds a validated plugin (see `validatePluginClass`) under its id. */
  add(plugin: RegisteredPlugin): void {
    this.#plugins.set(plugin.info.id, plugin);
  }
}
