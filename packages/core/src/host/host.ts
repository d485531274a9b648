import { EventEmitter } from 'eventemitter3';
import { type Clock, systemClock } from '../clock.js';
import { describeThrown, isPlugboardError, PlugboardError } from '../errors.js';
import type { HostEvents } from '../events.js';
import { HostLogBridge, type HostLogger } from '../observability/host-logger.js';
import { TaskMetrics } from '../observability/task-metrics.js';
import { TaskTracing } from '../observability/task-tracing.js';
import { numberOption } from '../option-checks.js';
import { type AuthorizeHook, holdsPermissions } from '../plugins/authorization.js';
import { loadPlugins } from '../plugins/plugin-loading.js';
import { operationalPlugin } from '../plugins/plugin-lookup.js';
import { PluginStatusKeeper } from '../plugins/plugin-status.js';
import { PropertyResolver } from '../plugins/properties.js';
import { PluginRegistry } from '../plugins/registry.js';
import { recoverUnfinishedTasks } from '../runtime/crash-recovery.js';
import { inProcessRuntime } from '../runtime/in-process-runtime.js';
import { TaskIsolation } from '../runtime/isolated/task-isolation.js';
import { limitsOfPlugins } from '../runtime/plugin-limits.js';
import { installProcessExitGuard } from '../runtime/process-exit-guard.js';
import type { TaskRuntime } from '../runtime/runtime.js';
import { runtimeEnvironment } from '../runtime/runtime-environment.js';
import { TaskFactory } from '../runtime/task-factory.js';
import { ScheduleManager } from '../schedules/background-schedules.js';
import { memoryStore } from '../store/memory-store.js';
import type { TaskStore } from '../store/store.js';
import { ANONYMOUS_USER, type PlugboardUser } from '../task.js';
import type { BootReport } from './boot-report.js';
import { ChildTaskQueue } from './child-tasks.js';
import { HostLifecycle } from './host-lifecycle.js';
import {
  checkExecuteOptions,
  checkHostOptions,
  checkWatchOptions,
  type ExecuteOptions,
  type ExecuteResult,
  type HostOptions,
  type HostState,
  type StopOptions,
} from './host-options.js';
import { HostPlugins } from './host-plugins.js';
import { HostPoints } from './host-points.js';
import { HostReloading } from './host-reloading.js';
import { HostSchedules } from './host-schedules.js';
import { HostTasks } from './host-tasks.js';
import { IdempotentExecutions } from './idempotent-executions.js';
import { PluginExecutor } from './plugin-executor.js';
import { PluginIsolationView } from './plugin-isolation.js';
import { WaitKeepAlive } from './wait-keep-alive.js';

/**
 * The object a host application creates, starts and stops. It owns the plugin registry, the property sources,
 * the task runtime, the store, the scheduler and the typed event bus; the work is done by the parts it wires.
 */
export class Host<User extends PlugboardUser = PlugboardUser> {
  /** The typed event bus: `plugin:status`, `task:queued|started|progress|log|finished`, `schedule:fired`, `error`. */
  readonly events = new EventEmitter<HostEvents>();
  /** Reading and administering plugins. */
  readonly plugins: HostPlugins<User>;
  /** Watching, listing and cancelling tasks. */
  readonly tasks: HostTasks;
  /** Background-task schedules. */
  readonly schedules: HostSchedules;
  /** Plugin points. */
  readonly points: HostPoints;
  readonly #options: HostOptions<User>;
  readonly #store: TaskStore;
  readonly #runtime: TaskRuntime;
  readonly #clock: Clock;
  readonly #lifecycle = new HostLifecycle();
  readonly #waits = new WaitKeepAlive();
  readonly #registry = new PluginRegistry();
  readonly #isolation: TaskIsolation;
  readonly #pluginIsolation: PluginIsolationView;
  readonly #taskFactory: TaskFactory;
  readonly #status: PluginStatusKeeper;
  readonly #schedules: ScheduleManager;
  readonly #executor: PluginExecutor<User>;
  readonly #idempotency: IdempotentExecutions;
  readonly #reloading: HostReloading;
  readonly #children: ChildTaskQueue;
  readonly #tracing: TaskTracing | undefined;
  readonly #log: HostLogBridge | undefined;
  #metrics: TaskMetrics | undefined;
  #report: BootReport | undefined;
  #releaseExitGuard: (() => void) | undefined;

  constructor(options: HostOptions<User> = {}) {
    checkHostOptions(options);
    this.#options = options;
    const store = options.store ?? memoryStore();
    const runtime: TaskRuntime = options.runtime ?? inProcessRuntime({ concurrency: options.concurrency });
    const clock = options.clock ?? systemClock;
    const events = this.events;
    const reportError = (error: unknown) => this.#reportError(error);
    const cwd = () => options.cwd ?? process.cwd();
    this.#store = store;
    this.#runtime = runtime;
    this.#clock = clock;
    this.#isolation = new TaskIsolation(options.isolation, cwd());
    this.#tracing =
      options.openTelemetry === false ? undefined : new TaskTracing(options.openTelemetry?.tracerProvider);
    this.#log = options.logger
      ? new HostLogBridge({
          logger: options.logger,
          events,
          taskLines: options.logTaskLines ?? false,
          redact: (text) => this.#redact(text),
        })
      : undefined;
    this.#taskFactory = new TaskFactory(this.#registry, this.#isolation);
    this.#executor = new PluginExecutor<User>({
      store,
      runtime,
      clock,
      events,
      authorize: options.authorize ?? (holdsPermissions as AuthorizeHook<User>),
      maxTasksPerExecution: options.maxTasksPerExecution ?? 1000,
      defaultTaskTimeoutMs: options.defaultTaskTimeoutMs ?? null,
    });
    this.#idempotency = new IdempotentExecutions({
      store,
      clock,
      windowMs: options.idempotencyWindowMs ?? 86_400_000,
    });
    this.#schedules = new ScheduleManager({
      store,
      clock,
      run: (plugin, scheduleId, user) => {
        const run = () => this.#executor.runSchedule(plugin, scheduleId, user);
        return this.#tracing ? this.#tracing.schedule(plugin.info.id, scheduleId, run) : run();
      },
      plugin: (id) => this.#registry.get(id),
      reportError,
      // A store shared by several processes keeps schedules when the runtime does not, so each fires once.
      runtime: runtime.schedules ?? options.store?.shared?.schedules,
    });
    this.#status = new PluginStatusKeeper({
      store,
      clock,
      events,
      readinessTimeoutMs: options.readinessTimeoutMs ?? 5000,
      reportError,
    });
    this.#pluginIsolation = new PluginIsolationView(this.#isolation, this.#registry, this.#status);
    this.#reloading = new HostReloading(
      {
        registry: this.#registry,
        store,
        clock,
        events,
        lifecycle: this.#lifecycle,
        status: this.#status,
        schedules: this.#schedules,
        cwd,
        dirs: options.plugins?.dirs ?? [],
        argv: options.argv ?? process.argv.slice(2),
        loadTimeoutMs: options.plugins?.loadTimeoutMs ?? 10_000,
        followSymlinks: options.plugins?.followSymlinks ?? false,
        isolation: this.#pluginIsolation,
        reportError,
      },
      checkWatchOptions('watch', options.watch),
    );
    this.tasks = new HostTasks({
      store,
      runtime,
      clock,
      events,
      keepAlive: this.#waits,
      rerun: async (record, user) => {
        this.#lifecycle.requireStarted();
        return this.#executor.rerun(operationalPlugin(this.#registry, record.pluginId), record, user as User);
      },
    });
    this.#children = new ChildTaskQueue({
      registry: this.#registry,
      store,
      runtime,
      clock,
      events,
      defaultTaskTimeoutMs: options.defaultTaskTimeoutMs ?? null,
      cancel: (id) => this.tasks.cancel(id),
      stopping: () => this.#lifecycle.state !== 'started',
      reportError,
    });
    this.plugins = new HostPlugins<User>({
      registry: this.#registry,
      lifecycle: this.#lifecycle,
      status: this.#status,
      reloading: this.#reloading,
      schedules: this.#schedules,
      executor: this.#executor,
      isolation: this.#pluginIsolation,
      cwd,
    });
    this.schedules = new HostSchedules(store, this.#schedules, this.#lifecycle);
    this.points = new HostPoints(this.#registry);
    events.on('task:finished', (record) => {
      if (record.scheduleId) this.#schedules.taskFinished(record).catch(reportError);
    });
  }

  /** Where the host is in its lifecycle. */
  get state(): HostState {
    return this.#lifecycle.state;
  }

  /** The report of the last start, once it finished. */
  get report(): BootReport | undefined {
    const report = this.#report;
    const reloads = this.#reloading.reloads;
    if (report && report.reloads !== reloads) this.#report = { ...report, reloads };
    return this.#report;
  }

  /** The store the host keeps records in. */
  get store(): TaskStore {
    return this.#store;
  }

  /**
   * The logger the host writes its events to (the `logger` option), for the parts a host adds around it, such as an
   * HTTP layer's faults; `undefined` when none was given.
   */
  get logger(): HostLogger | undefined {
    return this.#options.logger;
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
    const lifecycle = this.#lifecycle;
    if (lifecycle.state !== 'created') {
      throw new PlugboardError(
        'PLUGBOARD_HOST_ALREADY_STARTED',
        `host.start() was called while the host is ${lifecycle.state}; create a new host to start again.`,
      );
    }
    lifecycle.enter('starting');
    const startedAt = this.#clock.now();
    const t0 = performance.now();
    const options = this.#options;
    const properties = await this.#open();
    const { sources, notes, failures } = await loadPlugins({
      discovery: options.plugins ?? {},
      cwd: options.cwd ?? process.cwd(),
      argv: options.argv ?? process.argv.slice(2),
      properties,
      registry: this.#registry,
      status: this.#status,
      store: this.#store,
      registered: (plugin, file) => this.#pluginIsolation.check(plugin, file),
    });
    this.#reloading.begin(sources, properties, failures);

    if (options.guardProcessExit) this.#releaseExitGuard = installProcessExitGuard();
    await this.#runtime.start(
      runtimeEnvironment({
        store: this.#store,
        events: this.events,
        tasks: this.#taskFactory,
        logLevel: options.logLevel,
        maxLogLineLength: options.maxLogLineLength,
        maxLogLinesPerAttempt: options.maxLogLinesPerAttempt,
        guardProcessExit: options.guardProcessExit,
        progressIntervalMs: options.progressIntervalMs,
        reportError: (error) => this.#reportError(error),
        fireSchedule: (id, dueAt) => this.#schedules.fire(id, dueAt),
        pluginLimits: limitsOfPlugins((id) => this.#registry.get(id), options.limits),
        spawnChild: (parent, child, spawnOptions) => this.#children.spawn(parent, child, spawnOptions),
        waitForTask: (id) => this.tasks.wait(id),
        buildChild: (parent, child, spawnOptions) => this.#children.build(parent, child, spawnOptions),
        telemetry: this.#tracing,
      }),
    );
    await this.#store.shared?.connect({
      events: this.events,
      relayEvents: !this.#runtime.deliversEventsEverywhere,
      cancel: (id, cancelOptions) => this.#runtime.cancel(id, cancelOptions),
      fireSchedule: (id, dueAt) => this.#schedules.fire(id, dueAt),
      reportError: (error) => this.#reportError(error),
    });
    lifecycle.enter('started');
    if (options.openTelemetry !== false) {
      this.#metrics = new TaskMetrics(options.openTelemetry?.meterProvider, this.events, this.#runtime);
    }
    const recovery = this.#runtime.recoversOwnTasks
      ? { interrupted: 0, requeued: 0, resumed: 0 }
      : await recoverUnfinishedTasks({
          store: this.#store,
          runtime: this.#runtime,
          registry: this.#registry,
          tasks: this.#taskFactory,
          now: this.#clock.now(),
        });
    for (const plugin of this.#registry.all()) {
      if (plugin.info.kind === 'background' && plugin.info.status === 'operational') {
        await this.#schedules.arm(plugin);
      }
    }
    this.#report = {
      startedAt,
      durationMs: performance.now() - t0,
      plugins: this.plugins.list().map((p) => ({
        id: p.id,
        status: p.status,
        reason: p.reason,
        code: p.code,
        source: p.source,
        timings: p.timings,
        ...(p.isolation ? { isolation: p.isolation } : {}),
      })),
      failures,
      notes,
      recovery,
      store: this.#store.name,
      runtime: this.#runtime.name,
      reloads: this.#reloading.reloads,
    };
    this.#reloading.watchIfAsked();
    this.#log?.started(this.#report);
    return this.#report;
  }

  /**
   * Stops accepting work, lets running tasks finish up to the timeout, aborts and records the rest as
   * `interrupted`, then closes the store. Queued tasks stay queued in the store.
   */
  async stop(options: StopOptions = {}): Promise<void> {
    const lifecycle = this.#lifecycle;
    const state = lifecycle.state;
    if (state === 'stopped' || state === 'stopping' || state === 'created') {
      if (state === 'created') lifecycle.enter('stopped');
      return;
    }
    const timeoutMs = options.timeoutMs ?? this.#options.shutdownTimeoutMs ?? 10_000;
    numberOption('timeoutMs', timeoutMs, { min: 0 });
    lifecycle.enter('stopping');
    // A reload under way finishes first, so it cannot arm a schedule once the timers are stopped.
    await this.#reloading.reloader?.close();
    this.#schedules.stop();
    // A firing under way (its tasks being created and queued) is recorded in its schedule before the runtime
    // stops and the store closes; otherwise a task could be queued by a run its schedule never counts.
    await this.#schedules.settle(timeoutMs);
    try {
      await this.#runtime.stop({ timeoutMs });
    } finally {
      // Every worker thread and task process ends with the host, whatever the runtime's stop did.
      await this.#isolation.close();
      this.#releaseExitGuard?.();
      this.#releaseExitGuard = undefined;
      await this.#store.close();
      this.#waits.close();
      this.#metrics?.close();
      this.#log?.stopped();
      lifecycle.enter('stopped');
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
    this.#lifecycle.requireStarted();
    checkExecuteOptions(options);
    const execute = () => {
      const plugin = operationalPlugin(this.#registry, pluginId);
      if (options.idempotencyKey === undefined) return this.#executor.execute(plugin, args, options);
      const user = (options.user ?? ANONYMOUS_USER) as User;
      return this.#idempotency.execute(
        { key: options.idempotencyKey, pluginId, args, context: options.context, user },
        () => this.#executor.execute(plugin, args, options),
        () => this.#executor.authorize(user, plugin),
      );
    };
    return this.#tracing ? this.#tracing.execute(pluginId, options.user, execute) : execute();
  }

  /** Opens the store and loads the property sources; a failure leaves the host as it was created. */
  async #open(): Promise<PropertyResolver> {
    const options = this.#options;
    try {
      await this.#store.open();
    } catch (error) {
      this.#lifecycle.enter('created');
      // A store that already says what is wrong (for example a file written by a newer version) is rethrown as is.
      if (isPlugboardError(error)) throw error;
      throw new PlugboardError(
        'PLUGBOARD_STORE_UNAVAILABLE',
        `The ${this.#store.name} store could not be opened: ${describeThrown(error)}.`,
        { cause: error },
      );
    }
    const properties = new PropertyResolver({
      values: options.properties,
      file: options.propertiesFile,
      env: options.env,
      envPrefix: options.envPrefix,
    });
    try {
      await properties.load();
    } catch (error) {
      this.#lifecycle.enter('created');
      await this.#store.close().catch(() => {});
      throw error;
    }
    return properties;
  }

  /**
   * A failure outside any task (a store fault, a schedule that could not fire). It goes to the `error` listeners;
   * with none, to stderr, since an embedded library must not swallow an error the host author never saw.
   */
  #reportError(error: unknown): void {
    const err = error instanceof Error ? error : new Error(describeThrown(error));
    this.#log?.error(err);
    if (this.events.listenerCount('error') > 0) this.events.emit('error', err);
    else if (!this.#log)
      console.error("Plugboard host error (route these with host.events.on('error', ...)):", err);
  }

  /** A text with every registered plugin's secret values replaced, for lines about no one plugin. */
  #redact(text: string): string {
    let safe = text;
    for (const plugin of this.#registry.all()) safe = plugin.redactor.text(safe);
    return safe;
  }
}

/** Creates a host. Nothing is discovered or started until `await host.start()`. */
export function createHost<User extends PlugboardUser = PlugboardUser>(
  options?: HostOptions<User>,
): Host<User> {
  return new Host<User>(options);
}
