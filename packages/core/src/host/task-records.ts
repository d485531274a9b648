import { describeThrown, describeValue, PlugboardError } from '../errors.js';
import { createTaskId } from '../ids.js';
import type { TaskList } from '../plugin.js';
import type { RegisteredPlugin } from '../plugins/registry.js';
import { isTask, type PlugboardUser, type TaskRecord, taskTypeName } from '../task.js';

/**
 * `pluginId/TaskName` of each registered task type, made once per plugin registration: one shared string for all the
 * records of a type rather than a new joined string in each.
 */
const qualifiedNames = new WeakMap<object, Map<string, string>>();

function qualifiedTaskType(taskTypes: object, pluginId: string, name: string): string {
  let names = qualifiedNames.get(taskTypes);
  if (!names) {
    names = new Map();
    qualifiedNames.set(taskTypes, names);
  }
  let qualified = names.get(name);
  if (qualified === undefined) {
    qualified = `${pluginId}/${name}`;
    names.set(name, qualified);
  }
  return qualified;
}

/** Who queues the tasks of one execution, and how. */
export interface QueueRequest {
  /** The executing user (the system user for a schedule). */
  readonly user: PlugboardUser;
  /** The schedule that fired, or `null`. */
  readonly scheduleId: string | null;
  /** The context object id, for context plugins. */
  readonly contextId: string | null;
  /** Overrides the task timeout; `null` for none. */
  readonly timeoutMs?: number | null;
  /** Higher runs sooner. */
  readonly priority?: number;
}

/**
 * What `createTasks` returned, as a list of at most `max + 1` entries: an iterable that never ends (or a huge
 * array) is cut there, and the caller refuses it as too many tasks.
 */
export function normaliseTaskList(list: TaskList, max: number): unknown[] {
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
 * Builds the `queued` records of the tasks `createTasks` returned: each a Task of a type the plugin lists, with
 * JSON input (secret values replaced) and the timeout of the request, the task type, the plugin or the host.
 */
export function buildTaskRecords(
  plugin: RegisteredPlugin,
  tasks: readonly unknown[],
  options: QueueRequest,
  defaultTimeoutMs: number | null,
  now: number,
): TaskRecord[] {
  const records: TaskRecord[] = [];
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
          defaultTimeoutMs ??
          null);
    records.push({
      id: createTaskId(now),
      pluginId: id,
      taskType: qualifiedTaskType(plugin.taskTypes, id, name),
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
  return records;
}
