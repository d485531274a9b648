import type { EventEmitter } from 'eventemitter3';
import type { Clock } from '../clock.js';
import { describeThrown, type FieldError, isPlugboardError, PlugboardError } from '../errors.js';
import type { HostEvents } from '../events.js';
import type { ExecuteContext, TaskList } from '../plugin.js';
import { type AuthorizeHook, authorizeExecution } from '../plugins/authorization.js';
import type { RegisteredPlugin } from '../plugins/registry.js';
import type { TaskRuntime } from '../runtime/runtime.js';
import { fieldError } from '../schema.js';
import type { TaskStore } from '../store/store.js';
import { ANONYMOUS_USER, type PlugboardUser, SYSTEM_USER, type TaskRecord } from '../task.js';
import type { ExecuteOptions, ExecuteResult } from './host-options.js';
import { buildTaskRecords, normaliseTaskList, type QueueRequest } from './task-records.js';
import { rerunRecord } from './task-rerun.js';

/** Errors from `createTasks` that describe the caller's request rather than a fault of the plugin. */
const CALLER_ERRORS: ReadonlySet<string> = new Set([
  'PLUGBOARD_INVALID_ARGUMENTS',
  'PLUGBOARD_UNKNOWN_CONTEXT',
  'PLUGBOARD_CONTEXT_REQUIRED',
  'PLUGBOARD_FORBIDDEN',
]);

interface ActionCreate {
  createTasks(args: unknown, ctx: ExecuteContext): TaskList | Promise<TaskList>;
}
interface ContextCreate {
  createTasks(args: unknown, target: unknown, ctx: ExecuteContext): TaskList | Promise<TaskList>;
}

/** What {@link PluginExecutor} works with. */
export interface PluginExecutorOptions<User extends PlugboardUser> {
  readonly store: TaskStore;
  readonly runtime: TaskRuntime;
  readonly clock: Clock;
  readonly events: EventEmitter<HostEvents>;
  readonly authorize: AuthorizeHook<User>;
  /** The most tasks one execution may create. */
  readonly maxTasksPerExecution: number;
  /** Timeout of tasks whose plugin and type set none. */
  readonly defaultTaskTimeoutMs: number | null;
}

/**
 * The error with the plugin's secret values replaced in its message, stack and details: it may reach an HTTP
 * client, a log or the `error` event. The original stays as `cause` for the host's own diagnosis.
 */
export function withoutSecrets(plugin: RegisteredPlugin, error: PlugboardError): PlugboardError {
  const { redactor } = plugin;
  if (!redactor.active) return error;
  return new PlugboardError(error.code, redactor.text(error.message), {
    cause: error.cause ?? error,
    details: redactor.value(error.details),
  });
}

/**
 * Executes plugins: authorises the user, validates the arguments, resolves the context object, calls
 * `createTasks`, then stores and queues the tasks it returned. Scheduled runs of background plugins come here too.
 */
export class PluginExecutor<User extends PlugboardUser = PlugboardUser> {
  readonly #options: PluginExecutorOptions<User>;

  constructor(options: PluginExecutorOptions<User>) {
    this.#options = options;
  }

  /** Throws `PLUGBOARD_FORBIDDEN` unless `user` may execute the plugin. */
  authorize(user: User, plugin: RegisteredPlugin): Promise<void> {
    return authorizeExecution(this.#options.authorize, user, plugin.info);
  }

  /** Executes an operational plugin for `options.user` (see `Host.execute`). */
  async execute(
    plugin: RegisteredPlugin,
    args: unknown,
    options: ExecuteOptions<User>,
  ): Promise<ExecuteResult> {
    const pluginId = plugin.info.id;
    const user = (options.user ?? ANONYMOUS_USER) as User;
    await this.authorize(user, plugin);
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
        const target = await resolveContext(plugin, options.context, user);
        list = await (plugin.instance as unknown as ContextCreate).createTasks(parsed.value, target, ctx);
      } else {
        list = await (plugin.instance as unknown as ActionCreate).createTasks(parsed.value, ctx);
      }
    } catch (error) {
      // What a plugin says about the request itself reaches the caller as is; anything else is the plugin's fault.
      if (isPlugboardError(error) && CALLER_ERRORS.has(error.code)) throw withoutSecrets(plugin, error);
      throw withoutSecrets(
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
      throw isPlugboardError(error) ? withoutSecrets(plugin, error) : error;
    }
  }

  /** Queues a new run of a task with the same input, as `user`, once `user` may execute its plugin. */
  async rerun(plugin: RegisteredPlugin, previous: TaskRecord, user: User): Promise<TaskRecord> {
    const { store, runtime, events, clock } = this.#options;
    await this.authorize(user, plugin);
    const record = rerunRecord(previous, user, clock.now());
    await store.insertTask(record);
    events.emit('task:queued', record);
    await runtime.enqueue(record);
    return record;
  }

  /** Runs a background plugin for its schedule: its tasks are queued as the system user unless a person ran it. */
  async runSchedule(
    plugin: RegisteredPlugin,
    scheduleId: string,
    user: PlugboardUser = SYSTEM_USER,
  ): Promise<readonly TaskRecord[]> {
    const ctx: ExecuteContext = { user, scheduleId };
    let list: TaskList;
    try {
      list = await (plugin.instance as unknown as ActionCreate).createTasks({}, ctx);
    } catch (error) {
      throw withoutSecrets(
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
      records = await this.#queue(plugin, list, { user, scheduleId, contextId: null });
    } catch (error) {
      throw isPlugboardError(error) ? withoutSecrets(plugin, error) : error;
    }
    this.#options.events.emit('schedule:fired', {
      id: scheduleId,
      pluginId: plugin.info.id,
      taskIds: records.map((r) => r.id),
    });
    return records;
  }

  async #queue(plugin: RegisteredPlugin, list: TaskList, request: QueueRequest): Promise<TaskRecord[]> {
    const { store, runtime, events, clock } = this.#options;
    const id = plugin.info.id;
    const max = this.#options.maxTasksPerExecution;
    let tasks: unknown[];
    try {
      tasks = normaliseTaskList(list, max);
    } catch (error) {
      throw unreadableTasks(id, error);
    }
    if (tasks.length > max) {
      throw new PlugboardError(
        'PLUGBOARD_TOO_MANY_TASKS',
        `Plugin \`${id}\` created ${Array.isArray(list) ? list.length : `more than ${max}`} tasks in one execution; the host allows at most ${max} (maxTasksPerExecution).`,
      );
    }
    let records: TaskRecord[];
    try {
      records = buildTaskRecords(plugin, tasks, request, this.#options.defaultTaskTimeoutMs, clock.now());
    } catch (error) {
      if (isPlugboardError(error)) throw error;
      // A task object whose getters throw, a proxy...: what createTasks returned cannot be read.
      throw unreadableTasks(id, error);
    }
    for (const record of records) {
      await store.insertTask(record);
      events.emit('task:queued', record);
      await runtime.enqueue(record);
    }
    return records;
  }
}

function unreadableTasks(pluginId: string, error: unknown): PlugboardError {
  return new PlugboardError(
    'PLUGBOARD_INVALID_TASKS',
    `Plugin \`${pluginId}\`: reading what createTasks returned failed: ${describeThrown(error)}.`,
    { cause: error },
  );
}

/** The object a context plugin acts on, resolved from its id by the plugin's context kind. */
async function resolveContext(
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
