import type { TObject } from 'typebox';
import type { PluginSource } from './discovery.js';
import { describeThrown, PlugboardError, type PlugboardErrorCode } from './errors.js';
import {
  type BackgroundTaskOptions,
  bindPlugin,
  type PluginBase,
  type PluginClass,
  type PluginKind,
  type PluginPoint,
  type ReadinessResult,
} from './plugin.js';
import type { FlagParser, PropertyResolver } from './properties.js';
import {
  checkObjectSchema,
  compileObjectValidator,
  formatFieldErrors,
  type ObjectValidator,
  toJsonSchema,
} from './schema.js';
import { isTaskClass, type TaskClass, taskTypeName } from './task.js';
import { isValidRange, PLUGBOARD_VERSION, satisfiesRange } from './version.js';

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
  readonly schedule: Required<BackgroundTaskOptions> | null;
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
}

const EMPTY_OBJECT: TObject = { type: 'object', properties: {}, required: [] } as unknown as TObject;
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A plugin the registry holds: its class, its instance once built, and compiled validators. */
export interface RegisteredPlugin {
  info: PluginInfo;
  readonly cls: PluginClass;
  instance: PluginBase<unknown, unknown> | undefined;
  argsValidator: ObjectValidator<Record<string, unknown>> | undefined;
  properties: unknown;
  readonly taskTypes: Map<string, TaskClass>;
}

function defaultsFor(kind: PluginKind, def: Record<string, unknown>): Required<BackgroundTaskOptions> | null {
  if (kind !== 'background') return null;
  return {
    delaySeconds: (def.delaySeconds as number | undefined) ?? 30,
    repeatSeconds: (def.repeatSeconds as number | undefined) ?? 0,
    replaceExistingTasks: (def.replaceExistingTasks as boolean | undefined) ?? true,
  };
}

function describeId(id: unknown): string {
  return typeof id === 'string' ? JSON.stringify(id.slice(0, 80)) : String(typeof id);
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

  /** Sets a plugin's status; returns the previous one. */
  setStatus(
    id: string,
    status: PluginStatus,
    reason: string | null,
    code: PlugboardErrorCode | null,
  ): PluginStatus | null {
    const plugin = this.#plugins.get(id);
    if (!plugin) return null;
    const previous = plugin.info.status;
    plugin.info = { ...plugin.info, status, reason, code };
    return previous;
  }

  /**
   * Queries a plugin class and validates it: id, schemas, host version, tasks, points, properties and flags,
   * then builds the instance. Returns an error instead of throwing when the class is unusable before it has an id.
   */
  add(
    cls: PluginClass,
    source: PluginSource,
    loadMs: number,
    deps: { properties: PropertyResolver; flags: FlagParser },
  ): {
    /** The registered plugin, in whatever state validation left it. */
    plugin?: RegisteredPlugin;
    /** Why the class could not be registered at all (a bad or duplicate id). */
    error?: PlugboardError;
  } {
    const started = performance.now();
    const def = cls.definition as unknown as Record<string, unknown>;
    const id = def?.id;
    if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
      return {
        error: new PlugboardError(
          'PLUGBOARD_INVALID_PLUGIN',
          `Plugin class \`${cls.name}\` has an invalid id ${describeId(id)}: use 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit.`,
        ),
      };
    }
    const existing = this.#plugins.get(id);
    if (existing) {
      return {
        error: new PlugboardError(
          'PLUGBOARD_DUPLICATE_PLUGIN_ID',
          `Plugin id \`${id}\` of \`${cls.name}\` (${source.location}) is already used by \`${existing.cls.name}\` (${existing.info.source.location}); the first one was kept. Give each plugin its own id.`,
          { details: { id } },
        ),
      };
    }
    const kind = cls.pluginKind;
    const context = cls.contextKind;
    const info: PluginInfo = {
      id,
      name: typeof def.name === 'string' && def.name.length > 0 ? def.name : id,
      description: (def.description as string | undefined) ?? null,
      icon: (def.icon as string | undefined) ?? null,
      category: (def.category as string | undefined) ?? null,
      sortGroup: (def.sortGroup as string | undefined) ?? null,
      sortOrder: typeof def.sortOrder === 'number' ? def.sortOrder : 0,
      version: (def.version as string | undefined) ?? null,
      permissions: Array.isArray(def.permissions) ? (def.permissions as string[]).map(String) : [],
      kind,
      context: context
        ? { kind: context.id, idArgument: context.idArgument, description: context.description ?? null }
        : null,
      schedule: defaultsFor(kind, def),
      implements: ((def.implements as PluginPoint<unknown>[] | undefined) ?? []).map((p) => p.id),
      status: 'checking',
      reason: null,
      code: null,
      source,
      schemas: {
        args: toJsonSchema(EMPTY_OBJECT),
        properties: toJsonSchema(EMPTY_OBJECT),
        flags: toJsonSchema(EMPTY_OBJECT),
      },
      timings: { loadMs, validateMs: 0, readinessMs: 0 },
    };
    const plugin: RegisteredPlugin = {
      info,
      cls,
      instance: undefined,
      argsValidator: undefined,
      properties: {},
      taskTypes: new Map(),
    };
    this.#plugins.set(id, plugin);
    const problem = this.#validate(plugin, def, deps);
    plugin.info = {
      ...plugin.info,
      timings: { ...plugin.info.timings, validateMs: performance.now() - started },
    };
    if (problem)
      this.setStatus(
        id,
        problem.code === 'PLUGBOARD_PLUGIN_CONSTRUCT_FAILED' ? 'failed' : 'invalid',
        problem.message,
        problem.code,
      );
    return { plugin };
  }

  #validate(
    plugin: RegisteredPlugin,
    def: Record<string, unknown>,
    deps: { properties: PropertyResolver; flags: FlagParser },
  ): PlugboardError | undefined {
    const { id } = plugin.info;
    const schemas: Record<'args' | 'properties' | 'flags', TObject> = {
      args: EMPTY_OBJECT,
      properties: EMPTY_OBJECT,
      flags: EMPTY_OBJECT,
    };
    for (const key of ['args', 'properties', 'flags'] as const) {
      const schema = def[key];
      if (schema === undefined) continue;
      const problems = checkObjectSchema(schema);
      if (problems.length > 0) {
        return new PlugboardError(
          'PLUGBOARD_INVALID_SCHEMA',
          `The \`${key}\` schema of plugin \`${id}\` is not usable: ${problems.join('; ')}. Declare it with Type.Object({...}).`,
        );
      }
      schemas[key] = schema as TObject;
    }
    plugin.info = {
      ...plugin.info,
      schemas: {
        args: toJsonSchema(schemas.args),
        properties: toJsonSchema(schemas.properties),
        flags: toJsonSchema(schemas.flags),
      },
    };
    try {
      plugin.argsValidator = compileObjectValidator(schemas.args);
    } catch (error) {
      return new PlugboardError(
        'PLUGBOARD_INVALID_SCHEMA',
        `The \`args\` schema of plugin \`${id}\` does not compile: ${describeThrown(error)}.`,
        { cause: error },
      );
    }
    if (def.hostVersion !== undefined) {
      const range = def.hostVersion;
      if (typeof range !== 'string' || !isValidRange(range)) {
        return new PlugboardError(
          'PLUGBOARD_INVALID_PLUGIN',
          `Plugin \`${id}\` declares hostVersion ${describeId(range)}, which is not a semver range such as "^0.1.0".`,
        );
      }
      if (!satisfiesRange(PLUGBOARD_VERSION, range)) {
        return new PlugboardError(
          'PLUGBOARD_HOST_VERSION_MISMATCH',
          `Plugin \`${id}\` needs @plugboard/core ${range}, but this host runs ${PLUGBOARD_VERSION}. Upgrade the host or install a plugin version made for it.`,
        );
      }
    }
    if (plugin.info.kind === 'background') {
      const schedule = plugin.info.schedule!;
      for (const key of ['delaySeconds', 'repeatSeconds'] as const) {
        const value = schedule[key];
        if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
          return new PlugboardError(
            'PLUGBOARD_INVALID_PLUGIN',
            `Plugin \`${id}\`: expected \`${key}\` to be a number >= 0, got ${JSON.stringify(value)}.`,
          );
        }
      }
    }
    const tasks = def.tasks ?? [];
    if (!Array.isArray(tasks)) {
      return new PlugboardError(
        'PLUGBOARD_INVALID_PLUGIN',
        `Plugin \`${id}\`: \`tasks\` must be an array of Task classes.`,
      );
    }
    for (const taskClass of tasks as unknown[]) {
      if (!isTaskClass(taskClass)) {
        return new PlugboardError(
          'PLUGBOARD_INVALID_PLUGIN',
          `Plugin \`${id}\`: every entry of \`tasks\` must be a class extending Task, got ${describeId(typeof taskClass === 'function' ? taskClass.name : typeof taskClass)}.`,
        );
      }
      const name = taskTypeName(taskClass as TaskClass);
      if (plugin.taskTypes.has(name)) {
        return new PlugboardError(
          'PLUGBOARD_INVALID_PLUGIN',
          `Plugin \`${id}\` registers two task classes named \`${name}\`: give one a distinct \`static taskType\`.`,
        );
      }
      plugin.taskTypes.set(name, taskClass as TaskClass);
    }
    const kind = plugin.info.kind;
    if (
      kind !== 'point' &&
      typeof (plugin.cls.prototype as { createTasks?: unknown }).createTasks !== 'function'
    ) {
      return new PlugboardError(
        'PLUGBOARD_INVALID_PLUGIN',
        `Plugin \`${id}\` does not implement createTasks().`,
      );
    }
    for (const point of (def.implements as PluginPoint<unknown>[] | undefined) ?? []) {
      for (const method of point.methods) {
        if (typeof (plugin.cls.prototype as Record<string, unknown>)[method] !== 'function') {
          return new PlugboardError(
            'PLUGBOARD_MISSING_POINT_METHOD',
            `Plugin \`${id}\` implements plugin point \`${point.id}\` but has no \`${method}()\` method.`,
          );
        }
      }
    }
    const properties = deps.properties.resolve(id, schemas.properties);
    if (!properties.ok) {
      return new PlugboardError(
        'PLUGBOARD_INVALID_PROPERTIES',
        `App properties of plugin \`${id}\` are invalid: ${formatFieldErrors(properties.errors)}. Set them in the host's properties, its properties file or PLUGBOARD_* environment variables.`,
        { details: { fields: properties.errors } },
      );
    }
    const flags = deps.flags.resolve(id, schemas.flags);
    if (!flags.ok) {
      return new PlugboardError(
        'PLUGBOARD_INVALID_FLAGS',
        `Command-line arguments of plugin \`${id}\` are invalid: ${formatFieldErrors(flags.errors.map((e) => ({ ...e, path: `--${id}.${e.path.replace(/^\//, '')}` })))}.`,
        { details: { fields: flags.errors } },
      );
    }
    plugin.properties = properties.value;
    let instance: PluginBase<unknown, unknown>;
    try {
      instance = new (plugin.cls as unknown as new () => PluginBase<unknown, unknown>)();
    } catch (error) {
      return new PlugboardError(
        'PLUGBOARD_PLUGIN_CONSTRUCT_FAILED',
        `The constructor of plugin \`${id}\` threw: ${describeThrown(error)}.`,
        { cause: error },
      );
    }
    bindPlugin(instance, { properties: properties.value, flags: flags.value });
    plugin.instance = instance;
    return undefined;
  }

  /** Runs a plugin's readiness check, bounded by `timeoutMs`; returns the status it earns. */
  async checkReadiness(
    plugin: RegisteredPlugin,
    timeoutMs: number,
  ): Promise<{
    /** `operational`, `not-ready` or `failed`. */
    status: PluginStatus;
    /** Why it is not operational; `null` when it is. */
    reason: string | null;
    /** The error code behind `reason`, or `null`. */
    code: PlugboardErrorCode | null;
  }> {
    const started = performance.now();
    const limit = plugin.cls.definition.readinessTimeoutMs ?? timeoutMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const result = await Promise.race([
        Promise.resolve().then(() => plugin.instance!.isReady()),
        new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), limit);
        }),
      ]);
      if (result === 'timeout') {
        return {
          status: 'not-ready',
          reason: `The readiness check did not settle within ${limit} ms; check what isReady() waits for.`,
          code: 'PLUGBOARD_READINESS_TIMEOUT',
        };
      }
      const outcome = result as ReadinessResult;
      const ready = typeof outcome === 'boolean' ? outcome : Boolean(outcome?.ready);
      if (ready) return { status: 'operational', reason: null, code: null };
      const reason =
        typeof outcome === 'object' && outcome?.reason
          ? outcome.reason
          : 'isReady() reported the plugin is not ready.';
      return { status: 'not-ready', reason, code: 'PLUGBOARD_NOT_READY' };
    } catch (error) {
      return {
        status: 'failed',
        reason: `The readiness check threw: ${describeThrown(error)}.`,
        code: 'PLUGBOARD_READINESS_FAILED',
      };
    } finally {
      if (timer) clearTimeout(timer);
      plugin.info = {
        ...plugin.info,
        timings: { ...plugin.info.timings, readinessMs: performance.now() - started },
      };
    }
  }
}
