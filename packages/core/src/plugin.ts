import type { Static, TObject } from 'typebox';
import { PlugboardError } from './errors.js';
import type { IsolationMode, PluginAccess } from './runtime/isolated/isolation-options.js';
import type { PluginLimits } from './runtime/plugin-limits.js';
import type { EmptyObjectSchema } from './schema.js';
import type { PlugboardUser, Task, TaskClass } from './task.js';

/** What a host can read about a plugin without running any of its work. */
export interface PluginMetadata {
  /** Unique id: letters, digits, `.`, `_` and `-`, starting with a letter or digit, at most 64 characters. */
  readonly id: string;
  /** The name people see. */
  readonly name: string;
  /** A sentence or two on what the plugin does, shown beside its name. */
  readonly description?: string;
  /** An icon name or URL for user interfaces. */
  readonly icon?: string;
  /** Groups plugins in menus. */
  readonly category?: string;
  /** Orders groups within a category. */
  readonly sortGroup?: string;
  /** Orders plugins within a group, lowest first. */
  readonly sortOrder?: number;
  /** The plugin's own version. */
  readonly version?: string;
  /** Permissions the executing user needs (all of them). */
  readonly permissions?: readonly string[];
  /** The range of `@plugboard/core` versions the plugin works with, e.g. `^0.1.0`. */
  readonly hostVersion?: string;
}

/** A plugin's declaration: metadata plus the schemas of its arguments, app properties and start-up flags. */
export interface PluginDefinition<
  A extends TObject = EmptyObjectSchema,
  P extends TObject = EmptyObjectSchema,
  F extends TObject = EmptyObjectSchema,
> extends PluginMetadata {
  /** Schema of the arguments a person passes when executing the plugin. */
  readonly args?: A;
  /** Schema of the plugin's App Properties (configuration), resolved at host start. Preferred over `flags`. */
  readonly properties?: P;
  /** Schema of host start-up flags (`--<plugin id>.<name>`), parsed from the host's argv at start. */
  readonly flags?: F;
  /** Every task class the plugin creates, so any process can rebuild a task from its type and input. */
  readonly tasks?: readonly TaskClass[];
  /** Default task timeout in milliseconds for this plugin's tasks. */
  readonly timeoutMs?: number;
  /** How long `isReady()` may take before the plugin is reported not-ready, in milliseconds. */
  readonly readinessTimeoutMs?: number;
  /** The plugin points this plugin implements. */
  readonly implements?: readonly PluginPoint<any>[];
  /**
   * Where its tasks run, when not where the host runs plugins by default (`createHost({ isolation })`); a host may
   * raise it to the weakest mode it allows.
   */
  readonly isolation?: IsolationMode;
  /**
   * The files and folders its tasks read and write, and whether they start child processes or workers. In
   * `'process'` mode Node refuses everything else (`ERR_ACCESS_DENIED`); the host may narrow it. Shown in the boot
   * report and `host.plugins.list()` so a host author sees what the plugin asks for before running it.
   */
  readonly access?: PluginAccess;
  /**
   * How many of its tasks run at once and start per interval, whatever else the runtime runs; the host's `limits`
   * option overrides it per field. Tasks past a limit stay queued (nothing is dropped) and say why in
   * `waitingReason`.
   */
  readonly limits?: PluginLimits;
}

/** Options of a background-task plugin's schedule. */
export interface BackgroundTaskOptions {
  /**
   * Seconds after host start before the first run.
   * @default 30
   */
  readonly delaySeconds?: number;
  /**
   * Seconds between runs; 0 runs once.
   * @default 0
   */
  readonly repeatSeconds?: number;
  /**
   * On host start, evict an earlier schedule of this plugin and honour the new delay and repeat from now.
   * When false, an existing schedule is kept as it is.
   * @default true
   */
  readonly replaceExistingTasks?: boolean;
  /**
   * A cron expression that fires the plugin instead of `delaySeconds` and `repeatSeconds` (give one or the other):
   * five fields, or six with seconds first, e.g. `'0 *\/15 * * * *'` for every quarter hour.
   * @example '0 30 2 * * *'
   */
  readonly cron?: string;
  /**
   * The IANA time zone `cron` is read in, e.g. `'Europe/Berlin'`; only with `cron`.
   * @default 'UTC'
   */
  readonly timeZone?: string;
}

/** A background-task plugin's schedule options with their defaults applied, as `host.plugins.list()` shows them. */
export interface BackgroundScheduleOptions {
  /** Seconds after host start before the first run; `0` for a cron schedule. */
  readonly delaySeconds: number;
  /** Seconds between runs; `0` runs once, and for a cron schedule. */
  readonly repeatSeconds: number;
  /** Whether an earlier schedule of the plugin is replaced at host start. */
  readonly replaceExistingTasks: boolean;
  /** The cron expression, or `null` for a delay and repeat schedule. */
  readonly cron: string | null;
  /** The time zone of `cron`, or `null` for a delay and repeat schedule. */
  readonly timeZone: string | null;
}

/** The declaration of a background-task plugin. */
export interface BackgroundTaskPluginDefinition<
  P extends TObject = EmptyObjectSchema,
  F extends TObject = EmptyObjectSchema,
> extends Omit<PluginDefinition<EmptyObjectSchema, P, F>, 'args'>,
    BackgroundTaskOptions {}

/** The result of a readiness check: `true`, or not ready with a reason a person can act on. */
export type ReadinessResult =
  | boolean
  | {
      /** Whether the plugin can run now. */
      readonly ready: boolean;
      /** What is missing, in a sentence a person can act on; shown while the plugin is not ready. */
      readonly reason?: string;
    };

/** What `createTasks` may return: none, one or many tasks. */
// biome-ignore lint/suspicious/noConfusingVoidType: a createTasks that returns nothing creates no task.
export type TaskList = Task<any, any> | readonly Task<any, any>[] | null | undefined | void;

/** What `createTasks` receives besides the arguments. */
export interface ExecuteContext<User extends PlugboardUser = PlugboardUser> {
  /** The executing user. */
  readonly user: User;
  /** The schedule firing this run, for background-task plugins. */
  readonly scheduleId: string | null;
}

/**
 * A kind of host object that context plugins act on (a book, a media folder, a media file).
 * The host declares it once; plugin authors extend `ContextPlugin(kind, ...)`.
 */
export interface ContextKind<T> {
  /** The kind's id, e.g. `book`. */
  readonly id: string;
  /** The name of the id argument people pass, e.g. `bookId`. */
  readonly idArgument: string;
  /** Describes the id argument in forms and help. */
  readonly description?: string;
  /** Finds the object by id for the executing user; `undefined` when there is none. */
  readonly resolve: (
    id: string,
    ctx: { readonly user: PlugboardUser },
  ) => Promise<T | undefined> | T | undefined;
  /** Carries the object type; never set at run time. */
  readonly __object?: T;
}

/** Declares a context kind. */
export function defineContextKind<T>(kind: Omit<ContextKind<T>, '__object'>): ContextKind<T> {
  if (!kind || typeof kind.id !== 'string' || kind.id.length === 0) {
    throw new PlugboardError(
      'PLUGBOARD_INVALID_OPTION',
      'Expected `id` of a context kind to be a non-empty string.',
    );
  }
  if (typeof kind.idArgument !== 'string' || kind.idArgument.length === 0) {
    throw new PlugboardError(
      'PLUGBOARD_INVALID_OPTION',
      `Expected \`idArgument\` of context kind \`${kind.id}\` to be a non-empty string.`,
    );
  }
  if (typeof kind.resolve !== 'function') {
    throw new PlugboardError(
      'PLUGBOARD_INVALID_OPTION',
      `Expected \`resolve\` of context kind \`${kind.id}\` to be a function (id, { user }) => object.`,
    );
  }
  return Object.freeze({ ...kind });
}

/** A typed extension point that a host declares and plugins implement. */
export interface PluginPoint<T> {
  /** The point's id, unique in the host, e.g. `event-reporting`. */
  readonly id: string;
  /** What implementations of the point are for. */
  readonly description?: string;
  /** Methods an implementation must have; checked when the plugin is validated. */
  readonly methods: readonly string[];
  /** Carries the implementation type; never set at run time. */
  readonly __implementation?: T;
}

/** Declares a plugin point whose implementations have the type `T`. */
export function definePluginPoint<T>(point: {
  readonly id: string;
  readonly description?: string;
  readonly methods?: readonly (keyof T & string)[];
}): PluginPoint<T> {
  if (!point || typeof point.id !== 'string' || point.id.length === 0) {
    throw new PlugboardError(
      'PLUGBOARD_INVALID_OPTION',
      'Expected `id` of a plugin point to be a non-empty string.',
    );
  }
  return Object.freeze({ id: point.id, description: point.description, methods: [...(point.methods ?? [])] });
}

/** The kinds of plugin base class. */
export type PluginKind = 'action' | 'context' | 'background' | 'point';

interface BoundState {
  readonly properties: unknown;
  readonly flags: unknown;
}

// Global symbols, not module-local state: a plugin may load its own copy of @plugboard/core (a TypeScript
// loader, a nested node_modules), and must still work with the host's copy.
const BOUND = Symbol.for('plugboard.pluginState');
const BASE_MARK = Symbol.for('plugboard.pluginBase');

/** Gives a plugin instance its resolved properties and flags. Host-internal. */
export function bindPlugin(instance: object, state: BoundState): void {
  Object.defineProperty(instance, BOUND, { value: state, configurable: true });
}

function boundState(instance: object, what: string): BoundState {
  const state = (instance as { [BOUND]?: BoundState })[BOUND];
  if (!state) {
    throw new PlugboardError(
      'PLUGBOARD_INVALID_PLUGIN',
      `\`this.${what}\` is set by the host after the plugin is constructed: read it in isReady() or createTasks(), not in the constructor.`,
    );
  }
  return state;
}

/** What every plugin instance has, whatever its base class. */
export abstract class PluginBase<Properties = Record<string, never>, Flags = Record<string, never>> {
  /** The plugin's resolved App Properties, typed from its `properties` schema. */
  get properties(): Properties {
    return boundState(this, 'properties').properties as Properties;
  }

  /** The plugin's parsed command-line flags, typed from its `flags` schema. */
  get flags(): Flags {
    return boundState(this, 'flags').flags as Flags;
  }

  /** The plugin's id. */
  get id(): string {
    return (this.constructor as unknown as { definition: PluginMetadata }).definition.id;
  }

  /**
   * Tells the host whether the plugin can run now; return `{ ready: false, reason }` to say what is missing.
   * Called once at start, bounded by `readinessTimeoutMs`.
   */
  isReady(): ReadinessResult | Promise<ReadinessResult> {
    return true;
  }
}

function markBase(
  cls: object,
  kind: PluginKind,
  definition: object,
  contextKind?: ContextKind<unknown>,
): void {
  Object.defineProperty(cls, BASE_MARK, { value: true });
  Object.defineProperty(cls, 'pluginKind', { value: kind, enumerable: true });
  Object.defineProperty(cls, 'definition', { value: Object.freeze({ ...definition }), enumerable: true });
  if (contextKind) Object.defineProperty(cls, 'contextKind', { value: contextKind, enumerable: true });
}

/** The statics every plugin class carries. */
export interface PluginClassStatics {
  /** Which base class the plugin extends. */
  readonly pluginKind: PluginKind;
  /** The declaration passed to the base class: metadata, schemas, task classes and schedule options. */
  readonly definition: PluginDefinition<TObject, TObject, TObject> & Partial<BackgroundTaskOptions>;
  /** The context kind of a context plugin. */
  readonly contextKind?: ContextKind<unknown>;
}

/** Any concrete plugin class the host can load. */
export type PluginClass = (new () => PluginBase<any, any>) & PluginClassStatics;

/**
 * True when `value` is a concrete plugin class: it extends a Plugboard base class and is not the base itself.
 */
export function isPluginClass(value: unknown): value is PluginClass {
  if (typeof value !== 'function') return false;
  const cls = value as unknown as Record<string | symbol, unknown>;
  if (Object.hasOwn(cls, BASE_MARK)) return false;
  return cls[BASE_MARK] === true && typeof cls.pluginKind === 'string';
}

/** The instance side of every action plugin: what `ActionPlugin({...})` classes extend. */
export abstract class ActionPluginBase<Args = {}, Properties = {}, Flags = {}> extends PluginBase<
  Properties,
  Flags
> {
  /** Turns validated arguments into none, one or many tasks. */
  abstract createTasks(args: Args, ctx: ExecuteContext): TaskList | Promise<TaskList>;
}

/** The instance side of every context plugin: what `ContextPlugin(kind, {...})` classes extend. */
export abstract class ContextPluginBase<
  T = unknown,
  Args = {},
  Properties = {},
  Flags = {},
> extends PluginBase<Properties, Flags> {
  /** Turns validated arguments and the resolved context object into tasks. */
  abstract createTasks(args: Args, target: T, ctx: ExecuteContext): TaskList | Promise<TaskList>;
}

/** The instance side of every background-task plugin. */
export abstract class BackgroundTaskPluginBase<Properties = {}, Flags = {}> extends PluginBase<
  Properties,
  Flags
> {
  /** Creates the tasks of one scheduled run (or of a manual trigger). */
  abstract createTasks(args: Record<string, never>, ctx: ExecuteContext): TaskList | Promise<TaskList>;
}

/** The instance side of a plugin that only implements plugin points. */
export abstract class PointPluginBase<Properties = {}, Flags = {}> extends PluginBase<Properties, Flags> {}

/** The class `ActionPlugin({...})` returns. */
export type ActionPluginConstructor<
  A extends TObject,
  P extends TObject,
  F extends TObject,
> = (abstract new () => ActionPluginBase<Static<A>, Static<P>, Static<F>>) & {
  /** Which base class the plugin extends. */
  readonly pluginKind: PluginKind;
  /** The declaration passed to the base class. */
  readonly definition: PluginDefinition<A, P, F>;
};

/** The class `ContextPlugin(kind, {...})` returns. */
export type ContextPluginConstructor<
  T,
  A extends TObject,
  P extends TObject,
  F extends TObject,
> = (abstract new () => ContextPluginBase<T, Static<A>, Static<P>, Static<F>>) & {
  /** Which base class the plugin extends. */
  readonly pluginKind: PluginKind;
  /** The declaration passed to the base class. */
  readonly definition: PluginDefinition<A, P, F>;
  /** The kind of object the plugin acts on. */
  readonly contextKind: ContextKind<T>;
};

/** The class `BackgroundTaskPlugin({...})` returns. */
export type BackgroundTaskPluginConstructor<
  P extends TObject,
  F extends TObject,
> = (abstract new () => BackgroundTaskPluginBase<Static<P>, Static<F>>) & {
  /** Which base class the plugin extends. */
  readonly pluginKind: PluginKind;
  /** The declaration passed to the base class. */
  readonly definition: BackgroundTaskPluginDefinition<P, F>;
};

/** The class `PointPlugin({...})` returns. */
export type PointPluginConstructor<
  P extends TObject,
  F extends TObject,
> = (abstract new () => PointPluginBase<Static<P>, Static<F>>) & {
  /** Which base class the plugin extends. */
  readonly pluginKind: PluginKind;
  /** The declaration passed to the base class. */
  readonly definition: PluginDefinition<EmptyObjectSchema, P, F>;
};

/**
 * Base class of a general plugin: a named action with typed arguments that creates none, one or many tasks.
 *
 * @example
 * export class GreetPlugin extends ActionPlugin({ id: 'greet', name: 'Greet', args: GreetArgs, tasks: [GreetTask] }) {
 *   createTasks(args: Static<typeof GreetArgs>) { return new GreetTask(args); }
 * }
 */
export function ActionPlugin<
  A extends TObject = EmptyObjectSchema,
  P extends TObject = EmptyObjectSchema,
  F extends TObject = EmptyObjectSchema,
>(definition: PluginDefinition<A, P, F>): ActionPluginConstructor<A, P, F> {
  abstract class Base extends ActionPluginBase<Static<A>, Static<P>, Static<F>> {}
  markBase(Base, 'action', definition);
  return Base as unknown as ActionPluginConstructor<A, P, F>;
}

/**
 * Base class of a plugin that acts on one object of a host-defined context kind.
 * The host resolves the object from the id the user passes; it reaches `createTasks` as `target`.
 */
export function ContextPlugin<
  T,
  A extends TObject = EmptyObjectSchema,
  P extends TObject = EmptyObjectSchema,
  F extends TObject = EmptyObjectSchema,
>(kind: ContextKind<T>, definition: PluginDefinition<A, P, F>): ContextPluginConstructor<T, A, P, F> {
  abstract class Base extends ContextPluginBase<T, Static<A>, Static<P>, Static<F>> {}
  markBase(Base, 'context', definition, kind as ContextKind<unknown>);
  return Base as unknown as ContextPluginConstructor<T, A, P, F>;
}

/**
 * Base class of a background-task plugin: scheduled when the host starts, after `delaySeconds`, repeated every
 * `repeatSeconds` (0: once), replacing an earlier schedule unless `replaceExistingTasks` is false.
 */
export function BackgroundTaskPlugin<
  P extends TObject = EmptyObjectSchema,
  F extends TObject = EmptyObjectSchema,
>(definition: BackgroundTaskPluginDefinition<P, F>): BackgroundTaskPluginConstructor<P, F> {
  abstract class Base extends BackgroundTaskPluginBase<Static<P>, Static<F>> {}
  markBase(Base, 'background', definition);
  return Base as unknown as BackgroundTaskPluginConstructor<P, F>;
}

/**
 * Base class of a plugin that only implements plugin points (it has no action of its own).
 * Declare the points in `implements` and write `implements` on the class for the static check.
 */
export function PointPlugin<P extends TObject = EmptyObjectSchema, F extends TObject = EmptyObjectSchema>(
  definition: Omit<PluginDefinition<EmptyObjectSchema, P, F>, 'args' | 'tasks'> & {
    readonly implements: readonly PluginPoint<any>[];
  },
): PointPluginConstructor<P, F> {
  abstract class Base extends PointPluginBase<Static<P>, Static<F>> {}
  markBase(Base, 'point', definition);
  return Base as unknown as PointPluginConstructor<P, F>;
}
