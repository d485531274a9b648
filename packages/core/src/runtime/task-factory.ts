import { PlugboardError } from '../errors.js';
import type { PluginRegistry, RegisteredPlugin } from '../plugins/registry.js';
import type { RetryPolicy, TaskClass, TaskRecord } from '../task.js';
import { subjectOf, type TaskIsolation } from './isolated/task-isolation.js';
import type { InstantiatedTask } from './runtime.js';

/**
 * Rebuilds tasks from their records for a runtime: finds the registered task class of a record's type in the
 * plugin registry and builds the task from the record's JSON input. A reloaded plugin's new classes are used
 * from its next task on.
 */
export class TaskFactory {
  readonly #registry: PluginRegistry;
  readonly #isolation: TaskIsolation | undefined;

  /** With `isolation`, a task whose plugin runs isolated is built as a stand-in that runs it in a worker. */
  constructor(registry: PluginRegistry, isolation?: TaskIsolation) {
    this.#registry = registry;
    this.#isolation = isolation;
  }

  /** The plugin and the task class of the record's type; throws `PLUGBOARD_UNKNOWN_TASK_TYPE` when either is gone. */
  taskClass(record: TaskRecord): { plugin: RegisteredPlugin; taskClass: TaskClass } {
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

  /** The task class of the record's type, or `undefined` when it is not registered. */
  findTaskClass(record: TaskRecord): TaskClass | undefined {
    try {
      return this.taskClass(record).taskClass;
    } catch {
      return undefined;
    }
  }

  /** Builds the record's task with its plugin's properties and secrets. */
  instantiate(record: TaskRecord): InstantiatedTask {
    const { plugin, taskClass } = this.taskClass(record);
    const context = { properties: plugin.properties, secrets: plugin.secrets };
    if (this.#isolation) {
      return this.#isolation.instantiate(record, subjectOf(plugin), taskClass, context);
    }
    return { ...context, task: new taskClass(record.input) };
  }

  /** The retry policy of the record's task type, if it has one. */
  retryPolicy(record: TaskRecord): RetryPolicy | undefined {
    return this.findTaskClass(record)?.retry;
  }
}
