import {
  ActionPlugin,
  type ContextKind,
  createHost,
  defineContextKind,
  type Host,
  type HostOptions,
  isPluginClass,
  type PlugboardUser,
  type PluginClass,
  type PluginDiscoveryOptions,
  type TaskClass,
  type TaskLogEntry,
  type TaskRecord,
  type TObject,
  Type,
} from '@plugboard/core';

/** Options of {@link createTestHost}: the host's options, with plugins given as a list of classes if you like. */
export interface TestHostOptions extends Omit<HostOptions, 'plugins'> {
  /** The plugin classes to load, or the host's own discovery options (folders, packages, classes). */
  readonly plugins?: readonly PluginClass[] | PluginDiscoveryOptions;
}

/**
 * Creates and starts a host for tests: in-memory store, no environment variables or argv read, progress
 * reported without coalescing, debug logs kept.
 */
export async function createTestHost(options: TestHostOptions = {}): Promise<Host> {
  const plugins = Array.isArray(options.plugins)
    ? { classes: options.plugins as readonly PluginClass[] }
    : (options.plugins as PluginDiscoveryOptions | undefined);
  const host = createHost({
    env: false,
    argv: [],
    logLevel: 'debug',
    progressIntervalMs: 0,
    readinessTimeoutMs: 2000,
    ...options,
    plugins,
  });
  await host.start();
  return host;
}

/** What one task did, as the harness saw it. */
export interface TaskRun {
  /** The task's final record, as the host stored it. */
  readonly record: TaskRecord;
  /** The final state: `succeeded`, `failed`, `cancelled`, `timed-out` or `interrupted`. */
  readonly state: TaskRecord['state'];
  /** What `run` returned; `undefined` unless the task succeeded. */
  readonly result: unknown;
  /** Why the task did not succeed, with its code; `null` when it did. */
  readonly error: TaskRecord['error'];
  /** Every log line the task wrote, debug lines included. */
  readonly logs: readonly TaskLogEntry[];
  /** Every progress value reported, in order. */
  readonly progress: readonly number[];
  /** Every status text set, in order. */
  readonly statuses: readonly string[];
}

/** What one plugin execution did. */
export interface PluginRun {
  /** One entry per task `createTasks` returned, in order, each run to its end. */
  readonly tasks: readonly TaskRun[];
  /**
   * The host used, for further checks. It is stopped already unless the run was given `stop: false`; then stop
   * it with `await run.host.stop()`.
   */
  readonly host: Host;
}

/** Options of {@link runPlugin}. */
export interface RunPluginOptions {
  /** @default { id: 'test-user', permissions: the plugin's permissions } */
  readonly user?: PlugboardUser;
  /** The plugin's app properties. */
  readonly properties?: Record<string, unknown>;
  /** The context object id, for context plugins. */
  readonly context?: string;
  /** The host's other options (a clock, a store...). */
  readonly host?: Omit<TestHostOptions, 'plugins' | 'properties'>;
  /** Stop the host after the run. @default true */
  readonly stop?: boolean;
}

function watch(host: Host) {
  const progress = new Map<string, number[]>();
  const statuses = new Map<string, string[]>();
  host.events.on('task:progress', (event) => {
    const list = progress.get(event.id) ?? [];
    if (list.at(-1) !== event.progress) list.push(event.progress);
    progress.set(event.id, list);
    if (event.statusText !== null) {
      const texts = statuses.get(event.id) ?? [];
      if (texts.at(-1) !== event.statusText) texts.push(event.statusText);
      statuses.set(event.id, texts);
    }
  });
  return async (id: string): Promise<TaskRun> => {
    const record = await host.tasks.wait(id);
    const logs = await host.tasks.logs(id, { limit: 100_000 });
    return {
      record,
      state: record.state,
      result: record.result,
      error: record.error,
      logs,
      progress: progress.get(id) ?? [],
      statuses: statuses.get(id) ?? [],
    };
  };
}

/**
 * Runs a plugin the way a host would: validates the arguments, calls `createTasks` and runs every task to the
 * end, capturing logs, progress and results. Rejects with the host's coded error when the plugin refuses.
 */
export async function runPlugin(
  plugin: PluginClass,
  args: unknown = {},
  options: RunPluginOptions = {},
): Promise<PluginRun> {
  if (!isPluginClass(plugin))
    throw new TypeError('runPlugin expects a plugin class (extends ActionPlugin, ContextPlugin...).');
  const id = plugin.definition.id;
  const host = await createTestHost({
    ...options.host,
    plugins: [plugin],
    properties: options.properties ? { [id]: options.properties } : undefined,
  });
  const info = host.plugins.get(id);
  if (info?.status !== 'operational') {
    await host.stop();
    throw new Error(
      `Plugin \`${id}\` is ${info?.status ?? 'missing'}: ${info?.reason ?? 'see the boot report'}`,
    );
  }
  const finish = watch(host);
  const user = options.user ?? { id: 'test-user', permissions: [...(plugin.definition.permissions ?? [])] };
  try {
    const { tasks } = await host.execute(id, args, { user, context: options.context });
    const runs = await Promise.all(tasks.map((t) => finish(t.id)));
    return { tasks: runs, host };
  } finally {
    if (options.stop !== false) await host.stop();
  }
}

/** Options of {@link runTask}. */
export interface RunTaskOptions {
  /** @default { id: 'test-user' } */
  readonly user?: PlugboardUser;
  /** What the task sees as `ctx.properties`. */
  readonly properties?: Record<string, unknown>;
  /** A timeout in milliseconds. */
  readonly timeoutMs?: number;
}

/** Runs one task from its input on a real test host and returns what it did. */
export async function runTask(
  taskClass: TaskClass,
  input: unknown,
  options: RunTaskOptions = {},
): Promise<TaskRun> {
  const properties = options.properties ?? {};
  const schema = Type.Object(
    Object.fromEntries(Object.keys(properties).map((key) => [key, Type.Unknown()])),
  ) as unknown as TObject;
  class TaskHarnessPlugin extends ActionPlugin({
    id: 'task-harness',
    name: 'Task harness',
    properties: schema,
    tasks: [taskClass],
  }) {
    createTasks() {
      return new taskClass(input);
    }
  }
  const host = await createTestHost({
    plugins: [TaskHarnessPlugin as unknown as PluginClass],
    properties: { 'task-harness': properties },
  });
  const finish = watch(host);
  try {
    const { tasks } = await host.execute(
      'task-harness',
      {},
      { user: options.user ?? { id: 'test-user' }, timeoutMs: options.timeoutMs },
    );
    return await finish(tasks[0]!.id);
  } finally {
    await host.stop();
  }
}

/** Declares a context kind backed by a plain object of id to value, handy in tests. */
export function contextKindFrom<T>(
  id: string,
  idArgument: string,
  objects: Record<string, T>,
): ContextKind<T> {
  return defineContextKind<T>({ id, idArgument, resolve: (key) => objects[key] });
}
