import type { Clock } from '../clock.js';
import { describeValue, PlugboardError } from '../errors.js';
import { checkLogger, type HostLogger } from '../observability/host-logger.js';
import { checkOpenTelemetryOptions, type OpenTelemetryOptions } from '../observability/telemetry-options.js';
import {
  booleanOption,
  checkOptionsObject,
  functionOption,
  invalidOption,
  numberOption,
  oneOfOption,
} from '../option-checks.js';
import type { AuthorizeHook } from '../plugins/authorization.js';
import type { PluginDiscoveryOptions } from '../plugins/discovery.js';
import type { WatchOptions } from '../plugins/plugin-watcher.js';
import type { HostIsolationOptions, IsolationMode } from '../runtime/isolated/isolation-options.js';
import { checkHostLimits, type PluginLimits } from '../runtime/plugin-limits.js';
import type { TaskRuntime } from '../runtime/runtime.js';
import type { TaskStore } from '../store/store.js';
import { LOG_LEVEL_RANK, type LogLevel, type PlugboardUser, type TaskRecord } from '../task.js';
import { MAX_TIMER_MS } from '../timers.js';
import { checkIdempotencyKey } from './idempotent-executions.js';

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
  /**
   * How long an execute's `idempotencyKey` returns the tasks of the first execute with it, in milliseconds; after
   * that the key may be used for another request.
   * @default 86_400_000 (one day)
   */
  readonly idempotencyWindowMs?: number;
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
  /**
   * Where tasks run: `'none'` on the host's event loop, `'thread'` in a worker thread, `'process'` in a child
   * process under Node's permission model; or the long form with the grace period, memory limit, the weakest mode
   * allowed, the modules of plugins passed as classes and the most file access granted. Plugins discovered from
   * folders or packages run in `'thread'` unless this says otherwise; classes run in-process unless their module is
   * named. See docs/tasks.md.
   * @default 'thread'
   */
  readonly isolation?: IsolationMode | HostIsolationOptions;
  /**
   * Limits per plugin id: how many of its tasks run at once and start per interval. Each field overrides the one
   * the plugin declares in its own `limits`. See docs/tasks.md.
   * @example { limits: { thumbnails: { concurrency: 2, intervalCap: 10, intervalMs: 1000 } } }
   */
  readonly limits?: Readonly<Record<string, PluginLimits>>;
  /**
   * Receives the host's own events (start and stop, plugin status changes, task ends, faults outside any task)
   * as `logger.info(fields, message)` calls: a pino logger, `console`, or anything of that shape. Faults then go
   * to it rather than to stderr. See docs/observability.md.
   * @default none: faults go to the `error` listeners, or to stderr when there are none
   */
  readonly logger?: HostLogger;
  /**
   * Also write every line of the tasks' logs to `logger` (secrets replaced, with the task id, plugin id, attempt and
   * user id as fields). They are kept in the store either way.
   * @default false
   */
  readonly logTaskLines?: boolean;
  /**
   * The host's OpenTelemetry spans (one per `execute`, one per attempt of a task) and metrics, through
   * `@opentelemetry/api`: they cost next to nothing until the host installs an SDK. `false` records none; an object
   * names the providers to use instead of the global ones. See docs/observability.md.
   * @default the global providers
   */
  readonly openTelemetry?: false | OpenTelemetryOptions;
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
  /**
   * Makes the execute safe to repeat: a repeat with the same key (by the same user) within the host's
   * `idempotencyWindowMs` returns the tasks of the first one instead of creating new ones, in any process sharing
   * the store and after a restart; a repeat with other arguments is refused with `PLUGBOARD_IDEMPOTENCY_KEY_REUSED`.
   * 1 to 255 printable ASCII characters, e.g. a UUID the client made.
   */
  readonly idempotencyKey?: string;
}

/** What one execution created. */
export interface ExecuteResult {
  /** The records of the tasks `createTasks` returned, each stored as `queued`; empty when it returned none. */
  readonly tasks: readonly TaskRecord[];
  /** True when an earlier execute with the same `idempotencyKey` created these tasks; they are as stored now. */
  readonly replayed?: boolean;
}

/** Options of {@link Host.stop}. */
export interface StopOptions {
  /** How long running tasks may take to finish before they are aborted and recorded `interrupted`. */
  readonly timeoutMs?: number;
}

/** The host's lifecycle states. */
export type HostState = 'created' | 'starting' | 'started' | 'stopping' | 'stopped';

/** Checks the `watch` host option or the options of `plugins.watch()`; returns the options to watch with. */
export function checkWatchOptions(name: string, value: unknown): WatchOptions | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return {};
  if (value === null || typeof value !== 'object') {
    throw invalidOption(name, 'a boolean or { debounceMs }', value);
  }
  numberOption(`${name}.debounceMs`, (value as WatchOptions).debounceMs, { min: 0, max: MAX_TIMER_MS });
  return value as WatchOptions;
}

/** Checks the host options when the host is built, so nothing invalid is found later inside a task. */
export function checkHostOptions(options: unknown): void {
  checkOptionsObject('host', options);
  const o = options as HostOptions;
  numberOption('readinessTimeoutMs', o.readinessTimeoutMs, { min: 1, max: MAX_TIMER_MS });
  numberOption('defaultTaskTimeoutMs', o.defaultTaskTimeoutMs, {
    min: 1,
    max: MAX_TIMER_MS,
    allowNull: true,
  });
  numberOption('shutdownTimeoutMs', o.shutdownTimeoutMs, { min: 0, max: MAX_TIMER_MS });
  numberOption('maxLogLineLength', o.maxLogLineLength, { min: 80 });
  numberOption('maxLogLinesPerAttempt', o.maxLogLinesPerAttempt, { min: 1 });
  numberOption('progressIntervalMs', o.progressIntervalMs, { min: 0, max: MAX_TIMER_MS });
  numberOption('maxTasksPerExecution', o.maxTasksPerExecution, { min: 1 });
  numberOption('idempotencyWindowMs', o.idempotencyWindowMs, { min: 1 });
  booleanOption('guardProcessExit', o.guardProcessExit, false);
  checkWatchOptions('watch', o.watch);
  oneOfOption('logLevel', o.logLevel, Object.keys(LOG_LEVEL_RANK) as LogLevel[], 'info');
  functionOption('authorize', o.authorize, undefined);
  checkHostLimits(o.limits);
  checkLogger(o.logger);
  booleanOption('logTaskLines', o.logTaskLines, false);
  checkOpenTelemetryOptions(o.openTelemetry);
  for (const dir of o.plugins?.dirs ?? []) {
    if (typeof dir !== 'string' || dir.length === 0) {
      throw new PlugboardError(
        'PLUGBOARD_INVALID_OPTION',
        `Expected every \`plugins.dirs\` entry to be a folder path, got ${describeValue(dir)}.`,
      );
    }
  }
}

/** Checks the options of one execution. */
export function checkExecuteOptions(options: ExecuteOptions): void {
  numberOption('timeoutMs', options.timeoutMs, { min: 1, max: MAX_TIMER_MS, allowNull: true });
  if (options.priority !== undefined && !Number.isFinite(options.priority)) {
    throw invalidOption('priority', 'a finite number', options.priority);
  }
  checkIdempotencyKey(options.idempotencyKey);
}
