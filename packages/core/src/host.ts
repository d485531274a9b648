import { resolve } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { ScheduleManager } from './background-schedules.js';
import { type Clock, systemClock } from './clock.js';
import {
  type DiscoveryNote,
  discoverPlugins,
  type PluginDiscoveryOptions,
  type PluginSource,
} from './discovery.js';
import {
  describeThrown,
  describeValue,
  type FieldError,
  isPlugboardError,
  PlugboardError,
  type PlugboardErrorCode,
} from './errors.js';
import type { HostEvents } from './events.js';
import { createTaskId } from './ids.js';
import { inProcessRuntime } from './in-process-runtime.js';
import { memoryStore } from './memory-store.js';
import type { ExecuteContext, PluginClass, PluginPoint, TaskList } from './plugin.js';
import {
  MAX_RELOADS_KEPT,
  type PluginReload,
  PluginReloader,
  type ReloadHost,
  reloadError,
} from './plugin-reloader.js';
import type { WatchOptions } from './plugin-watcher.js';
import { installProcessExitGuard } from './process-exit-guard.js';
import { FlagParser, PropertyResolver } from './properties.js';
import { type PluginInfo, PluginRegistry, type PluginStatus, type RegisteredPlugin } from './registry.js';
import type { CancelOptions, RuntimeEnvironment, TaskRuntime } from './runtime.js';
import { fieldError } from './schema.js';
import {
  decodeCursor,
  type LogQuery,
  type PluginCatalogueEntry,
  type ScheduleRecord,
  type TaskPage,
  type TaskQuery,
  type TaskStore,
} from './store.js';
import {
  ANONYMOUS_USER,
  isFinalState,
  isTask,
  LOG_LEVEL_RANK,
  type LogLevel,
  type PlugboardUser,
  SYSTEM_USER,
  type TaskClass,
  type TaskLogEntry,
  type TaskRecord,
  taskTypeName,
} from './task.js';
import { DEFAULT_MAX_LOG_LINES_PER_ATTEMPT } from './task-execution.js';
import { MAX_TIMER_MS } from './timers.js';

/** Decides whether a user may execute a plugin. */
export type AuthorizeHook<User extends PlugboardUser = PlugboardUser> = (
  user: User,
  plugin: PluginInfo,
) => boolean | Promise<boolean>;

/** Options of {@link createHost}. */
export interface HostOptions<User extends PlugboardUser = PlugboardUser> {
  /** Where plugins are found: folders, installed packages, explicit classes. */
  readonly plugins?: PluginDiscoveryOptions;
  /** App property values per plugin id, e.g. `{ greet: { greeting: 'Hi' } }`. */
  readonly properties?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** A JSON file of property values per plugin id; overrides `properties`. */
  readonly propertiesFile?: string;
  /**
   * Environment variables (`PLUGBOARD_<PLUGIN>__<PROPERTY>`) override the file; `false` ignores them.
   * @default process.env
   */
  readonly env?: Readonly<Record<string, string | undefined>> | false;
  /** @default 'PLUGBOARD_' */
  readonly envPrefix?: string;
  /**
   * Where plugins' start-up flags (`--<plugin id>.<flag>`) are read from.
   * @default process.argv.slice(2)
   */
  readonly argv?: readonly string[];
  /**
   * The folder relative plugin folders and the host's package.json are found from.
   * @default process.cwd()
   */
  readonly cwd?: string;
  /** Where records, logs, schedules and the plugin catalogue are kept. @default memoryStore() */
  readonly store?: TaskStore;
  /** Where tasks run. @default inProcessRuntime({ concurrency }) */
  readonly runtime?: TaskRuntime;
  /** Concurrency of the default runtime. @default 4 */
  readonly concurrency?: number;
  /** Decides whether a user may execute a plugin. @default every plugin permission is in `user.permissions` */
  readonly authorize?: AuthorizeHook<User>;
  /** How long a plugin's `isReady()` may take before it is reported not-ready, in milliseconds. @default 5000 */
  readonly readinessTimeoutMs?: number;
  /** Timeout of tasks whose plugin and type set none; `null` for none. @default null */
  readonly defaultTaskTimeoutMs?: number | null;
  /** How long `stop()` waits for running tasks by default. @default 10000 */
  readonly shutdownTimeoutMs?: number;
  /** Task log lines below this level are dropped. @default 'info' */
  readonly logLevel?: LogLevel;
  /** Longer task log lines (and error messages) are cut to this many characters. @default 8192 */
  readonly maxLogLineLength?: number;
  /**
   * The most log lines one attempt of a task writes; later lines are dropped and one line at the end says how
   * many, so a task logging in a loop keeps memory, the store and event listeners flat.
   * @default 10000
   */
  readonly maxLogLinesPerAttempt?: number;
  /** @default 100 */
  readonly progressIntervalMs?: number;
  /** The most tasks one execution may create. @default 1000 */
  readonly maxTasksPerExecution?: number;
  /** The scheduler's clock; tests pass a fake one. @default the system clock */
  readonly clock?: Clock;
  /**
   * While the host runs, a `process.exit()` call from inside a task (at any depth of its asynchronous work) throws
   * `PLUGBOARD_PROCESS_EXIT_REFUSED` at the call site and fails the task, instead of ending the process. Calls
   * from anywhere else exit as usual. A safety net against a careless plugin, not a sandbox: see docs/security.md.
   * @default false
   */
  readonly guardProcessExit?: boolean;
  /**
   * Watch the plugin folders (`plugins.dirs`) once the host has started, and reload a plugin whose module changes
   * without restarting the host: `true`, or options. For development; see `host.plugins.watch()`.
   * @default false
   */
  readonly watch?: boolean | WatchOptions;
}

/** Options of {@link Host.execute}. */
export interface ExecuteOptions<User extends PlugboardUser = PlugboardUser> {
  /** The executing user. @default an anonymous user with no permissions */
  readonly user?: User;
  /** The context object id, for context plugins. */
  readonly context?: string;
  /** Overrides the task timeout in milliseconds; `null` for none. */
  readonly timeoutMs?: number | null;
  /** Higher runs sooner. @default 0 */
  readonly priority?: number;
}

/** What one execution created. */
export interface ExecuteResult {
  /** The records of the tasks `createTasks` returned, each stored as `queued`; empty when it returned none. */
  readonly tasks: readonly TaskRecord[];
}

/** One plugin's line in the boot report. */
export interface BootReportPlugin {
  /** The plugin's id. */
  readonly id: string;
  /** The state it ended the start in. */
  readonly status: PluginStatus;
  /** Why it is not operational, in a sentence a person can act on; `null` when it is. */
  readonly reason: string | null;
  /** The error code behind `reason`, or `null`. */
  readonly code: PlugboardErrorCode | null;
  /** The file, package or class it came from. */
  readonly source: PluginSource;
  /** Time spent on each lifecycle step. */
  readonly timings: PluginInfo['timings'];
}

/** A source that failed before any plugin id could be read from it (a syntax error, a duplicate id...). */
export interface BootReportFailure {
  /** The file, package or class that failed. */
  readonly source: PluginSource;
  /** Why, as a stable code. */
  readonly code: PlugboardErrorCode;
  /** Why, in a sentence a person can act on. */
  readonly reason: string;
}

/** What `host.start()` returns: every plugin's state and timings, the failures and the notes. */
export interface BootReport {
  /** When the start began, in milliseconds since the epoch (the host's clock). */
  readonly startedAt: number;
  /** How long the start took, in milliseconds. */
  readonly durationMs: number;
  /** Every plugin found, in one named state each. */
  readonly plugins: readonly BootReportPlugin[];
  /** Sources that could not be loaded at all. */
  readonly failures: readonly BootReportFailure[];
  /** What discovery skipped on purpose (files that are not modules, packages not installed...). */
  readonly notes: readonly DiscoveryNote[];
  /** What crash recovery found in the store. */
  readonly recovery: {
    /** Tasks a previous process left running, now recorded `interrupted`. */
    readonly interrupted: number;
    /** Tasks a previous process left running whose type is retry-safe, queued again for another attempt. */
    readonly requeued: number;
    /** Tasks a previous process left queued, handed to the runtime again. */
    readonly resumed: number;
  };
  /** The store's name, such as `memory` or `sqlite`. */
  readonly store: string;
  /** The task runtime's name, such as `in-process`. */
  readonly runtime: string;
  /**
   * The plugin modules reloaded since the start (by the folder watcher or `host.plugins.reload()`), oldest first;
   * the last 100 are kept.
   */
  readonly reloads: readonly PluginReload[];
}

/** Options of {@link Host.stop}. */
export interface StopOptions {
  /** How long running tasks may take to finish before they are aborted and recorded `interrupted`. */
  readonly timeoutMs?: number;
}

/** The host's lifecycle states. */
export type HostState = 'created' | 'starting' | 'started' | 'stopping' | 'stopped';

/** Errors from `createTasks` that describe the caller's request rather than a fault of the plugin. */
const CALLER_ERRORS: ReadonlySet<string> = new Set([
  'PLUGBOARD_INVALID_ARGUMENTS',
  'PLUGBOARD_UNKNOWN_CONTEXT',
  'PLUGBOARD_CONTEXT_REQUIRED',
  'PLUGBOARD_FORBIDDEN',
]);

/** How many recent task ends the host keeps in memory for when the store lags behind. */
const RECENT_ENDS = 256;

function defaultAuthorize(user: PlugboardUser, plugin: PluginInfo): boolean {
  const granted = new Set(user.permissions ?? []);
  return plugin.permissions.every((p) => granted.has(p));
}

function checkNumber(name: string, value: unknown, min: number, allowNull = false, max = Infinity): void {
  if (value === undefined || (allowNull && value === null)) return;
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max) {
    const range = typeof value === 'number' && value > max ? `<= ${max}` : `>= ${min}`;
    throw new PlugboardError(
      'PLUGBOARD_INVALID_OPTION',
      `Expected \`${name}\` to be a number ${range}${allowNull ? ' or null' : ''}, got ${describeValue(value)}.`,
    );
  }
}

/** Checks the `watch` host option or the options of `plugins.watch()`; returns the options to watch with. */
function checkWatchOptions(name: string, value: unknown): WatchOptions | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return {};
  if (value === null || typeof value !== 'object') {
    throw new PlugboardError(
      'PLUGBOARD_INVALID_OPTION',
      `Expected \`${name}\` to be a boolean or { debounceMs }, got ${describeValue(value)}.`,
    );
  }
  checkNumber(`${name}.debounceMs`, (value as WatchOptions).debounceMs, 0, false, MAX_TIMER_MS);
  return value as WatchOptions;
}

/**
 * What `createTasks` returned, as a list of at most `max + 1` entries: an iterable that never ends (or a huge
 * array) is cut there, and the caller refuses it as too many tasks.
 */
function normaliseTaskList(list: TaskList, max: number): unknown[] {
  if (list === undefined || list === null) return [];
  if (isTask(list)) return [list];
  if (Array.isArray(list)) return list.length > max ? list.slice(0, max + 1) : list;
  if (typeof list === 'object' && Symbol.iterator in (list as object)) {
    const out: unknown[] = [];
    for (const item of list as Iterable<unknown>) {
      out.push(item);
      if (out.length > max) break;
    }
    return out;
  }
  return [list];
}

/**
 * The object a host application creates, starts and stops. It owns the plugin registry, the property sources,
 * the task runtime, the store, the scheduler and the typed event bus.
 */
export class Host<User extends PlugboardUser = PlugboardUser> {
  /** The typed event bus: `plugin:status`, `task:queued|started|progress|log|finished`, `schedule:fired`, `error`. */
  readonly events = new EventEmitter<HostEvents>();
  readonly #options: HostOptions<User>;
  readonly #store: TaskStore;
  readonly #runtime: TaskRuntime;
  readonly #clock: Clock;
  readonly #registry = new PluginRegistry();
  readonly #schedules: ScheduleManager;
  readonly #waiters = new Map<string, Array<(record: TaskRecord) => void>>();
  /**
   * The most recent task ends, as the runtime reported them. While the store refuses writes (a full disk, a lock
   * held elsewhere) it still holds such a task as unfinished; reads, waits and cancels go by the reported end.
   */
  readonly #recentEnds = new Map<string, TaskRecord>();
  #state: HostState = 'created';
  #report: BootReport | undefined;
  #failures: BootReportFailure[] = [];
  #releaseExitGuard: (() => void) | undefined;
  /** Set by `host.start()`: reloads plugin modules of the plugin folders. */
  #reloader: PluginReloader | undefined;
  /** Watch options asked for before the start (the `watch` option or `plugins.watch()`), applied by it. */
  #watchRequest: WatchOptions | undefined;
  /** Property sources as loaded at start, reused to validate reloaded plugins. */
  #properties: PropertyResolver | undefined;
  #reloads: readonly PluginReload[] = [];

  constructor(options: HostOptions<User> = {}) {
    if (options === null || typeof options !== 'object') {
      throw new PlugboardError(
        'PLUGBOARD_INVALID_OPTION',
        `Expected host options to be an object, got ${describeValue(options)}.`,
      );
    }
    checkNumber('readinessTimeoutMs', options.readinessTimeoutMs, 1, false, MAX_TIMER_MS);
    checkNumber('defaultTaskTimeoutMs', options.defaultTaskTimeoutMs, 1, true, MAX_TIMER_MS);
    checkNumber('shutdownTimeoutMs', options.shutdownTimeoutMs, 0, false, MAX_TIMER_MS);
    checkNumber('maxLogLineLength', options.maxLogLineLength, 80);
    checkNumber('maxLogLinesPerAttempt', options.maxLogLinesPerAttempt, 1);
    checkNumber('progressIntervalMs', options.progressIntervalMs, 0, false, MAX_TIMER_MS);
    checkNumber('maxTasksPerExecution', options.maxTasksPerExecution, 1);
    if (options.guardProcessExit !== undefined && typeof options.guardProcessExit !== 'boolean') {
      throw new PlugboardError(
        'PLUGBOARD_INVALID_OPTION',
        `Expected \`guardProcessExit\` to be a boolean, got ${describeValue(options.guardProcessExit)}.`,
      );
    }
    this.#watchRequest = checkWatchOptions('watch', options.watch);
    if (options.logLevel !== undefined && !(options.logLevel in LOG_LEVEL_RANK)) {
      throw new PlugboardError(
        'PLUGBOARD_INVALID_OPTION',
        `Expected \`logLevel\` to be one of ${Object.keys(LOG_LEVEL_RANK).join(', ')}, got ${describeValue(options.logLevel)}.`,
      );
    }
    if (options.authorize !== undefined && typeof options.authorize !== 'function') {
      throw new PlugboardError(
        'PLUGBOARD_INVALID_OPTION',
        `Expected \`authorize\` to be a function, got ${describeValue(options.authorize)}.`,
      );
    }
    for (const dir of options.plugins?.dirs ?? []) {
      if (typeof dir !== 'string' || dir.length === 0) {
        throw new PlugboardError(
          'PLUGBOARD_INVALID_OPTION',
          `Expected every \`plugins.dirs\` entry to be a folder path, got ${describeValue(dir)}.`,
        );
      }
    }
    this.#options = options;
    this.#store = options.store ?? memoryStore();
    this.#runtime = options.runtime ?? inProcessRuntime({ concurrency: options.concurrency });
    this.#clock = options.clock ?? systemClock;
    this.#schedules = new ScheduleManager({
      store: this.#store,
      clock: this.#clock,
      run: (plugin, scheduleId) => this.#runSchedule(plugin, scheduleId),
      plugin: (id) => this.#registry.get(id),
      reportError: (error) => this.#reportError(error),
      runtime: this.#runtime.schedules,
    });
    this.events.on('task:finished', (record) => {
      this.#recentEnds.delete(record.id);
      this.#recentEnds.set(record.id, record);
      if (this.#recentEnds.size > RECENT_ENDS) this.#recentEnds.delete(this.#recentEnds.keys().next().value!);
      const waiters = this.#waiters.get(record.id);
      if (waiters) {
        this.#waiters.delete(record.id);
        for (const resolve of waiters) resolve(record);
      }
      if (record.scheduleId) this.#schedules.taskFinished(record).catch((error) => this.#reportError(error));
    });
  }

  /** Where the host is in its lifecycle. */
  get state(): HostState {
    return this.#state;
  }

  /** The report of the last start, once it finished. */
  get report(): BootReport | undefined {
    const report = this.#report;
    if (report && report.reloads !== this.#reloads) this.#report = { ...report, reloads: this.#reloads };
    return this.#report;
  }

  /** The store the host keeps records in. */
  get store(): TaskStore {
    return this.#store;
  }

  /** The runtime tasks execute on. */
  get runtime(): TaskRuntime {
    return this.#runtime;
  }

  /**
   * Discovers, loads, queries, validates and checks the readiness of every plugin, then starts the runtime and
   * arms background schedules. A broken plugin is reported, never fatal.
   */
  async start(): Promise<BootReport> {
    if (this.#state !== 'created') {
      throw new PlugboardError(
        'PLUGBOARD_HOST_ALREADY_STARTED',
        `host.start() was called while the host is ${this.#state}; create a new host to start again.`,
      );
    }
    this.#state = 'starting';
    const startedAt = this.#clock.now();
    const t0 = performance.now();
    try {
      await this.#store.open();
    } catch (error) {
      this.#state = 'created';
      // A store that already says what is wrong (for example a file written by a newer version) is rethrown as is.
      if (isPlugboardError(error)) throw error;
      throw new PlugboardError(
        'PLUGBOARD_STORE_UNAVAILABLE',
        `The ${this.#store.name} store could not be opened: ${describeThrown(error)}.`,
        { cause: error },
      );
    }
    const options = this.#options;
    const properties = new PropertyResolver({
      values: options.properties,
      file: options.propertiesFile,
      env: options.env,
      envPrefix: options.envPrefix,
    });
    try {
      await properties.load();
    } catch (error) {
      this.#state = 'created';
      await this.#store.close().catch(() => {});
      throw error;
    }
    const cwd = options.cwd ?? process.cwd();
    const { sources, notes } = await discoverPlugins(options.plugins ?? {}, cwd);
    const classes = sources.flatMap((s) => s.classes);
    const flags = this.#flagParser(classes);
    this.#properties = properties;
    const failures: BootReportFailure[] = [];
    for (const loaded of sources) {
      if (loaded.error) {
        failures.push({ source: loaded.source, code: loaded.error.code, reason: loaded.error.message });
        continue;
      }
      for (const cls of loaded.classes) {
        const { error } = this.#registry.add(cls, loaded.source, loaded.loadMs, { properties, flags });
        if (error) failures.push({ source: loaded.source, code: error.code, reason: error.message });
      }
    }
    this.#failures = failures;
    this.#reloader = new PluginReloader(
      this.#reloadHost(),
      (options.plugins?.dirs ?? []).map((dir) => resolve(cwd, dir)),
      sources,
    );

    const catalogue = new Map((await this.#store.listPluginEntries()).map((e) => [e.id, e]));
    const readinessTimeout = options.readinessTimeoutMs ?? 5000;
    await Promise.all(
      this.#registry.all().map(async (plugin) => {
        const id = plugin.info.id;
        if (plugin.info.status !== 'checking') return;
        if (catalogue.get(id)?.enabled === false) {
          this.#registry.setStatus(
            id,
            'disabled',
            'An administrator disabled this plugin; enable it to run it again.',
            'PLUGBOARD_PLUGIN_DISABLED',
          );
          return;
        }
        const outcome = await this.#registry.checkReadiness(plugin, readinessTimeout);
        this.#registry.setStatus(id, outcome.status, outcome.reason, outcome.code);
      }),
    );
    for (const plugin of this.#registry.all()) {
      await this.#saveCatalogue(plugin, catalogue.get(plugin.info.id));
      this.#emitStatus(plugin.info.id, plugin.info.status, null, plugin.info.reason);
    }

    if (options.guardProcessExit) this.#releaseExitGuard = installProcessExitGuard();
    await this.#runtime.start(this.#environment());
    this.#state = 'started';
    const recovery = this.#runtime.recoversOwnTasks
      ? { interrupted: 0, requeued: 0, resumed: 0 }
      : await this.#recover();
    for (const plugin of this.#registry.all()) {
      if (plugin.info.kind === 'background' && plugin.info.status === 'operational') {
        await this.#schedules.arm(plugin);
      }
    }
    this.#report = {
      startedAt,
      durationMs: performance.now() - t0,
      plugins: this.#registry.list().map((p) => ({
        id: p.id,
        status: p.status,
        reason: p.reason,
        code: p.code,
        source: p.source,
        timings: p.timings,
      })),
      failures,
      notes,
      recovery,
      store: this.#store.name,
      runtime: this.#runtime.name,
      reloads: this.#reloads,
    };
    if (this.#watchRequest) this.#reloader.watch(this.#watchRequest);
    return this.#report;
  }

  /**
   * Stops accepting work, lets running tasks finish up to the timeout, aborts and records the rest as
   * `interrupted`, then closes the store. Queued tasks stay queued in the store.
   */
  async stop(options: StopOptions = {}): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'stopping' || this.#state === 'created') {
      this.#state = this.#state === 'created' ? 'stopped' : this.#state;
      return;
    }
    const timeoutMs = options.timeoutMs ?? this.#options.shutdownTimeoutMs ?? 10_000;
    checkNumber('timeoutMs', timeoutMs, 0);
    this.#state = 'stopping';
    // A reload under way finishes first, so it cannot arm a schedule once the timers are stopped.
    await this.#reloader?.close();
    this.#schedules.stop();
    try {
      await this.#runtime.stop({ timeoutMs });
    } finally {
      this.#releaseExitGuard?.();
      this.#releaseExitGuard = undefined;
      await this.#store.close();
      this.#state = 'stopped';
    }
  }

  /**
   * Executes a plugin: checks it is operational and the user may run it, validates the arguments, resolves the
   * context object, calls `createTasks` and queues the tasks it returns.
   */
  async execute(
    pluginId: string,
    args: unknown = {},
    options: ExecuteOptions<User> = {},
  ): Promise<ExecuteResult> {
    this.#requireStarted();
    checkNumber('timeoutMs', options.timeoutMs, 1, true, MAX_TIMER_MS);
    if (options.priority !== undefined && !Number.isFinite(options.priority)) {
      throw new PlugboardError(
        'PLUGBOARD_INVALID_OPTION',
        `Expected \`priority\` to be a finite number, got ${describeValue(options.priority)}.`,
      );
    }
    const plugin = this.#operational(pluginId);
    const user = (options.user ?? ANONYMOUS_USER) as User;
    await this.#authorize(user, plugin.info);
    const parsed = plugin.argsValidator!.parse(args);
    if (!parsed.ok)
      throw fieldError(
        'PLUGBOARD_INVALID_ARGUMENTS',
        `Invalid arguments for plugin \`${pluginId}\``,
        parsed.errors,
      );
    const ctx: ExecuteContext = { user, scheduleId: null };
    let list: TaskList;
    try {
      if (plugin.info.kind === 'context') {
        const target = await this.#resolveContext(plugin, options.context, user);
        list = await (plugin.instance as unknown as ContextCreate).createTasks(parsed.value, target, ctx);
      } else {
        list = await (plugin.instance as unknown as ActionCreate).createTasks(parsed.value, ctx);
      }
    } catch (error) {
      // What a plugin says about the request itself reaches the caller as is; anything else is the plugin's fault.
      if (isPlugboardError(error) && CALLER_ERRORS.has(error.code)) throw this.#withoutSecrets(plugin, error);
      throw this.#withoutSecrets(
        plugin,
        new PlugboardError(
          'PLUGBOARD_CREATE_TASKS_FAILED',
          `Plugin \`${pluginId}\` failed to create its tasks: ${describeThrown(error)}.`,
          { cause: error },
        ),
      );
    }
    try {
      const tasks = await this.#queue(plugin, list, {
        user,
        scheduleId: null,
        contextId: plugin.info.kind === 'context' ? (options.context ?? null) : null,
        timeoutMs: options.timeoutMs,
        priority: options.priority,
      });
      return { tasks };
    } catch (error) {
      throw isPlugboardError(error) ? this.#withoutSecrets(plugin, error) : error;
    }
  }

  /**
   * The error with the plugin's secret values replaced in its message, stack and details: it may reach an HTTP
   * client, a log or the `error` event. The original stays as `cause` for the host's own diagnosis.
   */
  #withoutSecrets(plugin: RegisteredPlugin, error: PlugboardError): PlugboardError {
    const { redactor } = plugin;
    if (!redactor.active) return error;
    const safe = new PlugboardError(error.code, redactor.text(error.message), {
      cause: error.cause ?? error,
      details: redactor.value(error.details),
    });
    return safe;
  }

  /** Reading and administering plugins. */
  readonly plugins = {
    /** Every plugin with metadata, schemas, status and reason, sorted for menus. */
    list: (): PluginInfo[] => this.#registry.list(),
    /** One plugin, or `undefined`. */
    get: (id: string): PluginInfo | undefined => this.#registry.get(id)?.info,
    /** Sources that failed before a plugin id could be read (syntax errors, duplicate ids...). */
    failures: (): readonly BootReportFailure[] => this.#failures,
    /** Disables a plugin; it stays disabled across restarts with a persistent store. */
    disable: async (id: string): Promise<PluginInfo> => this.#setEnabled(id, false),
    /** Enables a disabled plugin and checks its readiness again. */
    enable: async (id: string): Promise<PluginInfo> => this.#setEnabled(id, true),
    /**
     * Whether `user` may execute plugin `id` now: the plugin is operational and the `authorize` hook (or the
     * default permission check) allows it. Routers and menus use it to show only what a user can run.
     */
    mayExecute: async (user: User, id: string): Promise<boolean> => {
      const plugin = this.#registry.get(id);
      if (plugin?.info.status !== 'operational') return false;
      try {
        await this.#authorize(user, plugin.info);
        return true;
      } catch {
        return false;
      }
    },
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
    reload: async (id: string): Promise<PluginInfo> => {
      this.#requireStarted();
      const plugin = this.#known(id);
      const file = this.#reloader?.fileOf(plugin);
      if (file === undefined) {
        const { type, location } = plugin.info.source;
        throw new PlugboardError(
          'PLUGBOARD_PLUGIN_NOT_RELOADABLE',
          `Plugin \`${id}\` comes from ${type === 'class' ? `the class \`${location}\` passed in plugins.classes` : `the installed package \`${location}\``}: only plugins from plugin folders (plugins.dirs) are reloaded; restart the host to load a new version.`,
        );
      }
      const reload = await this.#reloader!.reloadFile(file);
      const error = reloadError(id, reload);
      if (error) throw error;
      return this.#known(id).info;
    },
    /**
     * Reloads the plugin module at `path`, a file in a plugin folder (or in a sub-folder plugin): its plugins are
     * swapped for their new versions, a module the host had not loaded is added, and the plugins of a deleted one
     * are removed. Resolves with what happened, also when the module failed to load (the old version then keeps
     * running); rejects with `PLUGBOARD_PLUGIN_NOT_RELOADABLE` for a path outside the plugin folders.
     */
    reloadFile: async (path: string): Promise<PluginReload> => {
      this.#requireStarted();
      if (typeof path !== 'string' || path.length === 0) {
        throw new PlugboardError(
          'PLUGBOARD_INVALID_OPTION',
          `Expected \`path\` to be a file path, got ${describeValue(path)}.`,
        );
      }
      return this.#reloader!.reloadFile(resolve(this.#options.cwd ?? process.cwd(), path));
    },
    /**
     * Watches the plugin folders (`plugins.dirs`, recursively with `fs.watch`) and reloads a plugin module when
     * it changes, is added or is deleted, as `reloadFile()` does. Meant for development: each reload of an ES
     * module keeps the old one in memory. Called before `start()`, watching begins once the host has started;
     * it ends with `unwatch()` or `stop()`. Returns the folders watched (or to be watched); the watcher never
     * keeps the process alive by itself.
     */
    watch: (options: WatchOptions = {}): readonly string[] => {
      const checked = checkWatchOptions('options', options) ?? {};
      if (this.#state === 'stopping' || this.#state === 'stopped') this.#requireStarted();
      this.#watchRequest = checked;
      if (this.#state === 'started') return this.#reloader!.watch(checked);
      const cwd = this.#options.cwd ?? process.cwd();
      return (this.#options.plugins?.dirs ?? []).map((dir) => resolve(cwd, dir));
    },
    /** Stops watching the plugin folders; a reload already under way finishes. */
    unwatch: (): void => {
      this.#watchRequest = undefined;
      this.#reloader?.unwatch();
    },
    /** Runs a plugin's readiness check again (for example after the thing it waited for is fixed). */
    recheck: async (id: string): Promise<PluginInfo> => {
      const plugin = this.#known(id);
      if (plugin.instance && (plugin.info.status === 'not-ready' || plugin.info.status === 'operational')) {
        await this.#check(plugin);
      }
      return plugin.info;
    },
  };

  /** Watching, listing and cancelling tasks. */
  readonly tasks = {
    /** One task's record, or `undefined`. */
    get: async (id: string): Promise<TaskRecord | undefined> => this.#withEnd(await this.#store.getTask(id)),
    /** Tasks newest first, filtered by user, plugin and state, paged by cursor. */
    list: async (query: TaskQuery = {}): Promise<TaskPage> => {
      if (query.cursor !== undefined && decodeCursor(query.cursor) === undefined) {
        throw fieldError('PLUGBOARD_INVALID_ARGUMENTS', 'Invalid task query', [
          { path: '/cursor', message: 'is not a cursor returned by a previous page' },
        ]);
      }
      if (
        query.limit !== undefined &&
        (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > 500)
      ) {
        throw fieldError('PLUGBOARD_INVALID_ARGUMENTS', 'Invalid task query', [
          { path: '/limit', message: 'must be an integer from 1 to 500' },
        ]);
      }
      const page = await this.#store.listTasks(query);
      if (this.#recentEnds.size === 0) return page;
      const states = query.state === undefined ? undefined : [query.state].flat();
      const items = page.items
        .map((record) => this.#withEnd(record)!)
        .filter((record) => states === undefined || states.includes(record.state));
      return { ...page, items };
    },
    /** A task's log lines after `after` (a `seq`). */
    logs: async (id: string, query: LogQuery = {}): Promise<readonly TaskLogEntry[]> => {
      await this.#knownTask(id);
      return this.#store.getLogs(id, query);
    },
    /** Cancels a queued or running task and returns its final record. */
    cancel: async (id: string, options?: CancelOptions): Promise<TaskRecord> => {
      const record = await this.#knownTask(id);
      if (isFinalState(record.state)) {
        throw new PlugboardError(
          'PLUGBOARD_TASK_FINISHED',
          `Task \`${id}\` already finished (${record.state}); nothing to cancel.`,
        );
      }
      const handled = await this.#runtime.cancel(id, options);
      if (!handled) {
        await this.#store.updateTask(id, {
          state: 'cancelled',
          finishedAt: this.#clock.now(),
          error: { code: 'PLUGBOARD_TASK_CANCELLED', message: 'The task was cancelled.' },
        });
        const cancelled = (await this.#store.getTask(id))!;
        this.events.emit('task:finished', cancelled);
        return cancelled;
      }
      return this.tasks.wait(id);
    },
    /** Resolves with the record once the task reaches a final state. */
    wait: async (id: string, options: { signal?: AbortSignal } = {}): Promise<TaskRecord> => {
      const pending = new Promise<TaskRecord>((resolve, reject) => {
        const list = this.#waiters.get(id) ?? [];
        list.push(resolve);
        this.#waiters.set(id, list);
        options.signal?.addEventListener('abort', () => reject(options.signal?.reason), { once: true });
      });
      const record = await this.#knownTask(id);
      if (isFinalState(record.state)) {
        this.#dropWaiters(id);
        return record;
      }
      return pending;
    },
  };

  /** Background-task schedules. */
  readonly schedules = {
    /** Every schedule in the store. */
    list: async (): Promise<readonly ScheduleRecord[]> => this.#store.listSchedules(),
    /** Runs a schedule now, out of cadence; refused with `PLUGBOARD_SCHEDULE_RUNNING` while a run is in progress. */
    trigger: async (id: string): Promise<ExecuteResult> => {
      this.#requireStarted();
      return { tasks: await this.#schedules.trigger(id) };
    },
  };

  /** Plugin points. */
  readonly points = {
    /** The operational implementations of a plugin point, typed by the point. */
    get: <T>(point: PluginPoint<T>): T[] =>
      this.#registry
        .all()
        .filter((p) => p.info.status === 'operational' && p.info.implements.includes(point.id))
        .map((p) => p.instance as unknown as T),
  };

  /**
   * Tasks a previous process left `running` are marked `interrupted` (and re-queued when their type is
   * `retrySafe`); tasks it left `queued` are queued again.
   */
  async #recover(): Promise<BootReport['recovery']> {
    const counts = { interrupted: 0, requeued: 0, resumed: 0 };
    const now = this.#clock.now();
    for (const record of await this.#store.listUnfinishedTasks()) {
      let taskClass: TaskClass | undefined;
      try {
        taskClass = this.#taskClass(record).taskClass;
      } catch {
        taskClass = undefined;
      }
      const operational = this.#registry.get(record.pluginId)?.info.status === 'operational';
      if (record.state === 'running') {
        const retry =
          Boolean(taskClass?.retrySafe) && operational && record.attempt < Math.max(record.maxAttempts, 3);
        const message = retry
          ? 'The process running this task stopped; the task type is retry-safe, so it runs again.'
          : 'The process running this task stopped before it finished.';
        // Log lines may have reached the store after the record's last update: continue after the last one stored.
        const seq = (await this.#lastLogSeq(record)) + 1;
        await this.#store.appendLogs(record.id, [{ seq, time: now, level: 'always', message }]);
        if (retry) {
          const next: TaskRecord = {
            ...record,
            state: 'queued',
            attempt: record.attempt + 1,
            startedAt: null,
            logCount: seq,
            error: { code: 'PLUGBOARD_TASK_INTERRUPTED', message },
          };
          await this.#store.updateTask(record.id, next);
          await this.#runtime.enqueue(next);
          counts.requeued++;
        } else {
          await this.#store.updateTask(record.id, {
            state: 'interrupted',
            finishedAt: now,
            logCount: seq,
            error: { code: 'PLUGBOARD_TASK_INTERRUPTED', message },
          });
          counts.interrupted++;
        }
      } else if (record.state === 'queued' && operational && taskClass) {
        await this.#runtime.enqueue(record);
        counts.resumed++;
      }
    }
    return counts;
  }

  #flagParser(classes: readonly PluginClass[]): FlagParser {
    return new FlagParser(
      this.#options.argv ?? process.argv.slice(2),
      classes.flatMap((cls) => {
        try {
          const def = cls.definition as { id?: unknown; flags?: unknown };
          return typeof def?.id === 'string' && def.flags && typeof def.flags === 'object'
            ? [{ pluginId: def.id, schema: def.flags as never }]
            : [];
        } catch {
          // A definition that cannot be read is reported when the registry adds the class.
          return [];
        }
      }),
    );
  }

  /** What the plugin reloader may do to the host: validate, check, swap and announce plugins. */
  #reloadHost(): ReloadHost {
    return {
      registry: this.#registry,
      clock: this.#clock,
      loadTimeoutMs: this.#options.plugins?.loadTimeoutMs ?? 10_000,
      followSymlinks: this.#options.plugins?.followSymlinks ?? false,
      isStarted: () => this.#state === 'started',
      validation: (classes) => ({ properties: this.#properties!, flags: this.#flagParser(classes) }),
      prepare: async (plugin) => {
        const entry = await this.#store.getPluginEntry(plugin.info.id).catch((error) => {
          this.#reportError(error);
          return undefined;
        });
        const outcome =
          entry?.enabled === false
            ? {
                status: 'disabled' as const,
                reason: 'An administrator disabled this plugin; enable it to run it again.',
                code: 'PLUGBOARD_PLUGIN_DISABLED' as const,
              }
            : await this.#registry.checkReadiness(plugin, this.#options.readinessTimeoutMs ?? 5000);
        plugin.info = { ...plugin.info, ...outcome };
      },
      activate: async (plugin, previous) => {
        const id = plugin.info.id;
        try {
          await this.#saveCatalogue(plugin, await this.#store.getPluginEntry(id));
        } catch (error) {
          this.#reportError(error);
        }
        this.#emitStatus(id, plugin.info.status, previous?.info.status ?? null, plugin.info.reason);
        if (this.#state !== 'started') return;
        try {
          if (plugin.info.kind === 'background' && plugin.info.status === 'operational') {
            await this.#schedules.arm(plugin);
          } else if (previous?.info.kind === 'background') {
            this.#schedules.disarm(id);
          }
        } catch (error) {
          this.#reportError(error);
        }
      },
      deactivate: (plugin) => {
        if (plugin.info.kind === 'background') this.#schedules.disarm(plugin.info.id);
      },
      replaceFailures: (locations, problems, source) => {
        this.#failures = [
          ...this.#failures.filter((f) => !locations.includes(f.source.location)),
          ...problems.map((p) => ({ source, code: p.code, reason: p.reason })),
        ];
      },
      reloaded: (reload) => {
        this.#reloads = [...this.#reloads.slice(-(MAX_RELOADS_KEPT - 1)), reload];
        try {
          this.events.emit('plugin:reloaded', reload);
        } catch (error) {
          this.#reportError(error);
        }
      },
      reportError: (error) => this.#reportError(error),
    };
  }

  async #lastLogSeq(record: TaskRecord): Promise<number> {
    let last = record.logCount;
    for (;;) {
      const page = await this.#store.getLogs(record.id, { after: last, limit: 1000 });
      const tail = page.at(-1);
      if (!tail) return last;
      last = tail.seq;
    }
  }

  #environment(): RuntimeEnvironment {
    return {
      store: this.#store,
      events: this.events,
      now: () => Date.now(),
      logLevel: this.#options.logLevel ?? 'info',
      maxLogLineLength: this.#options.maxLogLineLength ?? 8192,
      maxLogLinesPerAttempt: this.#options.maxLogLinesPerAttempt ?? DEFAULT_MAX_LOG_LINES_PER_ATTEMPT,
      guardProcessExit: this.#options.guardProcessExit ?? false,
      progressIntervalMs: this.#options.progressIntervalMs ?? 100,
      reportError: (error) => this.#reportError(error),
      fireSchedule: (id, dueAt) => this.#schedules.fire(id, dueAt),
      instantiate: (record) => {
        const { plugin, taskClass } = this.#taskClass(record);
        return { task: new taskClass(record.input), properties: plugin.properties, secrets: plugin.secrets };
      },
      retryPolicy: (record) => {
        try {
          return this.#taskClass(record).taskClass.retry;
        } catch {
          return undefined;
        }
      },
    };
  }

  #taskClass(record: TaskRecord) {
    const plugin = this.#registry.get(record.pluginId);
    const name = record.taskType.slice(record.pluginId.length + 1);
    const taskClass = plugin?.taskTypes.get(name);
    if (!plugin || !taskClass) {
      throw new PlugboardError(
        'PLUGBOARD_UNKNOWN_TASK_TYPE',
        `Task type \`${record.taskType}\` is not registered: is plugin \`${record.pluginId}\` installed, and is the class in its \`tasks\`?`,
      );
    }
    return { plugin, taskClass };
  }

  async #queue(
    plugin: RegisteredPlugin,
    list: TaskList,
    options: {
      user: PlugboardUser;
      scheduleId: string | null;
      contextId: string | null;
      timeoutMs?: number | null;
      priority?: number;
    },
  ): Promise<TaskRecord[]> {
    const id = plugin.info.id;
    const max = this.#options.maxTasksPerExecution ?? 1000;
    let tasks: unknown[];
    try {
      tasks = normaliseTaskList(list, max);
    } catch (error) {
      throw new PlugboardError(
        'PLUGBOARD_INVALID_TASKS',
        `Plugin \`${id}\`: reading what createTasks returned failed: ${describeThrown(error)}.`,
        { cause: error },
      );
    }
    if (tasks.length > max) {
      throw new PlugboardError(
        'PLUGBOARD_TOO_MANY_TASKS',
        `Plugin \`${id}\` created ${Array.isArray(list) ? list.length : `more than ${max}`} tasks in one execution; the host allows at most ${max} (maxTasksPerExecution).`,
      );
    }
    const now = this.#clock.now();
    const records: TaskRecord[] = [];
    try {
      this.#buildRecords(plugin, tasks, options, now, records);
    } catch (error) {
      if (isPlugboardError(error)) throw error;
      // A task object whose getters throw, a proxy...: what createTasks returned cannot be read.
      throw new PlugboardError(
        'PLUGBOARD_INVALID_TASKS',
        `Plugin \`${id}\`: reading what createTasks returned failed: ${describeThrown(error)}.`,
        { cause: error },
      );
    }
    for (const record of records) {
      await this.#store.insertTask(record);
      this.events.emit('task:queued', record);
      await this.#runtime.enqueue(record);
    }
    return records;
  }

  #buildRecords(
    plugin: RegisteredPlugin,
    tasks: readonly unknown[],
    options: {
      user: PlugboardUser;
      scheduleId: string | null;
      contextId: string | null;
      timeoutMs?: number | null;
      priority?: number;
    },
    now: number,
    records: TaskRecord[],
  ): void {
    const id = plugin.info.id;
    for (const [index, task] of tasks.entries()) {
      if (!isTask(task)) {
        throw new PlugboardError(
          'PLUGBOARD_INVALID_TASKS',
          `Plugin \`${id}\`: createTasks returned ${describeValue(task)} at position ${index}; return Task instances (or none).`,
        );
      }
      const taskClass = task.constructor as typeof plugin.taskTypes extends Map<string, infer C> ? C : never;
      const name = taskTypeName(taskClass);
      if (plugin.taskTypes.get(name) !== taskClass) {
        throw new PlugboardError(
          'PLUGBOARD_UNKNOWN_TASK_TYPE',
          `Plugin \`${id}\` created a \`${name}\` task but does not list it: add it to the plugin's \`tasks: [...]\`.`,
        );
      }
      let input: unknown;
      try {
        const text = JSON.stringify(task.input);
        input = text === undefined ? null : plugin.redactor.value(JSON.parse(text));
      } catch (error) {
        throw new PlugboardError(
          'PLUGBOARD_TASK_INPUT_NOT_SERIALIZABLE',
          `Plugin \`${id}\`: the input of task \`${name}\` is not JSON-serialisable (${describeThrown(error)}); pass plain data.`,
          { cause: error },
        );
      }
      const timeoutMs =
        options.timeoutMs !== undefined
          ? options.timeoutMs
          : (taskClass.timeoutMs ??
            (plugin.definition.timeoutMs as number | undefined) ??
            this.#options.defaultTaskTimeoutMs ??
            null);
      records.push({
        id: createTaskId(now),
        pluginId: id,
        taskType: `${id}/${name}`,
        input,
        user: options.user,
        state: 'queued',
        progress: 0,
        progressMessage: null,
        statusText: null,
        createdAt: now,
        startedAt: null,
        finishedAt: null,
        result: null,
        error: null,
        attempt: 1,
        maxAttempts: Math.max(1, taskClass.retry?.attempts ?? 1),
        priority: options.priority ?? 0,
        timeoutMs,
        scheduleId: options.scheduleId,
        contextId: options.contextId,
        logCount: 0,
      });
    }
  }

  async #runSchedule(plugin: RegisteredPlugin, scheduleId: string): Promise<readonly TaskRecord[]> {
    const ctx: ExecuteContext = { user: SYSTEM_USER, scheduleId };
    let list: TaskList;
    try {
      list = await (plugin.instance as unknown as ActionCreate).createTasks({}, ctx);
    } catch (error) {
      throw this.#withoutSecrets(
        plugin,
        new PlugboardError(
          'PLUGBOARD_CREATE_TASKS_FAILED',
          `Background plugin \`${plugin.info.id}\` failed to create its tasks: ${describeThrown(error)}.`,
          { cause: error },
        ),
      );
    }
    let records: TaskRecord[];
    try {
      records = await this.#queue(plugin, list, { user: SYSTEM_USER, scheduleId, contextId: null });
    } catch (error) {
      throw isPlugboardError(error) ? this.#withoutSecrets(plugin, error) : error;
    }
    this.events.emit('schedule:fired', {
      id: scheduleId,
      pluginId: plugin.info.id,
      taskIds: records.map((r) => r.id),
    });
    return records;
  }

  async #resolveContext(
    plugin: RegisteredPlugin,
    contextId: string | undefined,
    user: PlugboardUser,
  ): Promise<unknown> {
    const kind = plugin.cls.contextKind!;
    if (typeof contextId !== 'string' || contextId.length === 0) {
      throw new PlugboardError(
        'PLUGBOARD_CONTEXT_REQUIRED',
        `Plugin \`${plugin.info.id}\` acts on one ${kind.id}: pass its id as \`context\` (${kind.idArgument}).`,
        {
          details: { fields: [{ path: `/${kind.idArgument}`, message: 'is required' } satisfies FieldError] },
        },
      );
    }
    let target: unknown;
    try {
      target = await kind.resolve(contextId, { user });
    } catch (error) {
      throw new PlugboardError(
        'PLUGBOARD_CREATE_TASKS_FAILED',
        `Resolving ${kind.id} \`${contextId}\` failed: ${describeThrown(error)}.`,
        { cause: error },
      );
    }
    if (target === undefined || target === null) {
      throw new PlugboardError('PLUGBOARD_UNKNOWN_CONTEXT', `No ${kind.id} has id \`${contextId}\`.`, {
        details: { fields: [{ path: `/${kind.idArgument}`, message: `no ${kind.id} has this id` }] },
      });
    }
    return target;
  }

  async #authorize(user: User, info: PluginInfo): Promise<void> {
    const hook = (this.#options.authorize ?? defaultAuthorize) as AuthorizeHook<User>;
    let allowed: boolean;
    try {
      allowed = await hook(user, info);
    } catch (error) {
      throw new PlugboardError(
        'PLUGBOARD_FORBIDDEN',
        `Authorisation of plugin \`${info.id}\` failed: ${describeThrown(error)}.`,
        {
          cause: error,
        },
      );
    }
    if (!allowed) {
      const granted = new Set(user.permissions ?? []);
      const missing = info.permissions.filter((p) => !granted.has(p));
      throw new PlugboardError(
        'PLUGBOARD_FORBIDDEN',
        missing.length > 0
          ? `User \`${user.id}\` may not execute plugin \`${info.id}\`: it needs the permission(s) ${missing.map((p) => `\`${p}\``).join(', ')}.`
          : `User \`${user.id}\` may not execute plugin \`${info.id}\`.`,
        { details: { missing } },
      );
    }
  }

  #known(id: string): RegisteredPlugin {
    const plugin = this.#registry.get(id);
    if (!plugin) {
      throw new PlugboardError(
        'PLUGBOARD_UNKNOWN_PLUGIN',
        `No plugin has id \`${String(id).slice(0, 80)}\`; host.plugins.list() shows the installed ones.`,
      );
    }
    return plugin;
  }

  #operational(id: string): RegisteredPlugin {
    const plugin = this.#known(id);
    if (plugin.info.status !== 'operational') {
      throw new PlugboardError(
        plugin.info.status === 'disabled' ? 'PLUGBOARD_PLUGIN_DISABLED' : 'PLUGBOARD_PLUGIN_NOT_OPERATIONAL',
        `Plugin \`${id}\` is ${plugin.info.status}${plugin.info.reason ? `: ${plugin.info.reason}` : '.'}`,
        { details: { status: plugin.info.status, reason: plugin.info.reason, code: plugin.info.code } },
      );
    }
    return plugin;
  }

  /** The stored record, or the end the runtime reported when the store could not record it yet. */
  #withEnd(record: TaskRecord | undefined): TaskRecord | undefined {
    if (record === undefined || isFinalState(record.state)) return record;
    return this.#recentEnds.get(record.id) ?? record;
  }

  async #knownTask(id: string): Promise<TaskRecord> {
    const record = typeof id === 'string' ? this.#withEnd(await this.#store.getTask(id)) : undefined;
    if (!record) {
      this.#dropWaiters(id);
      throw new PlugboardError(
        'PLUGBOARD_UNKNOWN_TASK',
        `No task has id \`${String(id).slice(0, 80)}\` (it may have been evicted by retention).`,
      );
    }
    return record;
  }

  #dropWaiters(id: string): void {
    this.#waiters.delete(id);
  }

  async #setEnabled(id: string, enabled: boolean): Promise<PluginInfo> {
    const plugin = this.#known(id);
    const previous = plugin.info.status;
    if (!enabled) {
      if (previous !== 'disabled') {
        this.#registry.setStatus(
          id,
          'disabled',
          'An administrator disabled this plugin; enable it to run it again.',
          'PLUGBOARD_PLUGIN_DISABLED',
        );
      }
    } else if (previous === 'disabled') {
      if (plugin.instance) await this.#check(plugin, false);
      else
        this.#registry.setStatus(
          id,
          'invalid',
          'The plugin failed validation when the host started.',
          'PLUGBOARD_INVALID_PLUGIN',
        );
    }
    const stored = await this.#store.getPluginEntry(id);
    await this.#saveCatalogue(plugin, stored, enabled);
    if (previous !== plugin.info.status)
      this.#emitStatus(id, plugin.info.status, previous, plugin.info.reason);
    if (
      plugin.info.kind === 'background' &&
      plugin.info.status === 'operational' &&
      this.#state === 'started'
    ) {
      await this.#schedules.arm(plugin);
    }
    return plugin.info;
  }

  async #check(plugin: RegisteredPlugin, emit = true): Promise<void> {
    const previous = plugin.info.status;
    const outcome = await this.#registry.checkReadiness(plugin, this.#options.readinessTimeoutMs ?? 5000);
    this.#registry.setStatus(plugin.info.id, outcome.status, outcome.reason, outcome.code);
    if (emit && previous !== outcome.status) {
      await this.#saveCatalogue(plugin, await this.#store.getPluginEntry(plugin.info.id));
      this.#emitStatus(plugin.info.id, outcome.status, previous, plugin.info.reason);
    }
  }

  async #saveCatalogue(
    plugin: RegisteredPlugin,
    stored: PluginCatalogueEntry | undefined,
    enabled?: boolean,
  ): Promise<void> {
    const now = this.#clock.now();
    await this.#store.savePluginEntry({
      id: plugin.info.id,
      enabled: enabled ?? stored?.enabled ?? true,
      lastStatus: plugin.info.status,
      lastReason: plugin.info.reason,
      firstSeenAt: stored?.firstSeenAt ?? now,
      lastSeenAt: now,
    });
  }

  #emitStatus(id: string, status: PluginStatus, previous: PluginStatus | null, reason: string | null): void {
    try {
      this.events.emit('plugin:status', { id, status, previous, reason });
    } catch (error) {
      this.#reportError(error);
    }
  }

  #requireStarted(): void {
    if (this.#state === 'started') return;
    if (this.#state === 'stopping' || this.#state === 'stopped') {
      throw new PlugboardError(
        'PLUGBOARD_HOST_STOPPING',
        'The host is stopping or stopped and accepts no new work.',
      );
    }
    throw new PlugboardError(
      'PLUGBOARD_HOST_NOT_STARTED',
      'The host has not been started: await host.start() first.',
    );
  }

  #reportError(error: unknown): void {
    const err = error instanceof Error ? error : new Error(describeThrown(error));
    if (this.events.listenerCount('error') > 0) this.events.emit('error', err);
  }
}

interface ActionCreate {
  createTasks(args: unknown, ctx: ExecuteContext): TaskList | Promise<TaskList>;
}
interface ContextCreate {
  createTasks(args: unknown, target: unknown, ctx: ExecuteContext): TaskList | Promise<TaskList>;
}

/** Creates a host. Nothing is discovered or started until `await host.start()`. */
export function createHost<User extends PlugboardUser = PlugboardUser>(
  options?: HostOptions<User>,
): Host<User> {
  return new Host<User>(options);
}
