import type { EventEmitter } from 'eventemitter3';
import type { Clock } from '../clock.js';
import { isPlugboardError, PlugboardError } from '../errors.js';
import type { HostEvents } from '../events.js';
import { invalidOption, numberOption } from '../option-checks.js';
import type { PluginRegistry } from '../plugins/registry.js';
import {
  type ChildRequest,
  inheritedFields,
  orphanPatch,
  PARENT_STOPPED_STATES,
} from '../runtime/child-tasks.js';
import type { TaskRuntime } from '../runtime/runtime.js';
import type { TaskStore } from '../store/store.js';
import { isTask, type SpawnOptions, type TaskRecord } from '../task.js';
import { MAX_TIMER_MS } from '../timers.js';
import { buildTaskRecords } from './task-records.js';

/** What {@link ChildTaskQueue} works with. */
export interface ChildTaskQueueOptions {
  readonly registry: PluginRegistry;
  readonly store: TaskStore;
  readonly runtime: TaskRuntime;
  readonly clock: Clock;
  readonly events: EventEmitter<HostEvents>;
  readonly defaultTaskTimeoutMs: number | null;
  /** Cancels a task as `host.tasks.cancel` does. */
  cancel(id: string): Promise<unknown>;
  /** True while the host stops: children are then left queued for the next start's recovery. */
  stopping(): boolean;
  reportError(error: unknown): void;
}

/**
 * Child tasks (`ctx.spawn`): stores and queues them with their parent's id and user, and cancels the unfinished
 * children of a parent that was cancelled, timed out or interrupted.
 */
export class ChildTaskQueue {
  readonly #options: ChildTaskQueueOptions;

  constructor(options: ChildTaskQueueOptions) {
    this.#options = options;
    options.events.on('task:finished', (record) => {
      if (!PARENT_STOPPED_STATES.has(record.state) || options.stopping()) return;
      this.#cancelChildren(record.id).catch(options.reportError);
    });
  }

  /** Stores and queues a child of the running `parent`; resolves with its queued record. */
  async spawn(parent: TaskRecord, request: ChildRequest, options: SpawnOptions = {}): Promise<TaskRecord> {
    const { store, runtime, events } = this.#options;
    const record = this.build(parent, request, options);
    await store.insertTask(record);
    events.emit('task:queued', record);
    await runtime.enqueue(record);
    return record;
  }

  /** The queued record of a child of `parent`, not stored yet; throws a coded error for a bad request. */
  build(parent: TaskRecord, request: ChildRequest, options: SpawnOptions = {}): TaskRecord {
    const { registry, clock } = this.#options;
    checkSpawnOptions(options);
    const plugin = registry.get(parent.pluginId);
    if (!plugin) {
      throw new PlugboardError(
        'PLUGBOARD_UNKNOWN_PLUGIN',
        `Plugin \`${parent.pluginId}\` is no longer registered; its task cannot start children.`,
      );
    }
    let task: unknown = request;
    if (!isTask(request)) {
      const { taskType, input } = request;
      const cls = typeof taskType === 'string' ? plugin.taskTypes.get(taskType) : undefined;
      if (!cls) {
        throw new PlugboardError(
          'PLUGBOARD_UNKNOWN_TASK_TYPE',
          `Plugin \`${parent.pluginId}\` does not list a task type \`${String(taskType)}\`: add it to the plugin's \`tasks: [...]\`.`,
        );
      }
      task = new cls(input);
    }
    const [built] = buildTaskRecords(
      plugin,
      [task],
      {
        user: parent.user,
        scheduleId: null,
        contextId: parent.contextId,
        timeoutMs: options.timeoutMs,
        priority: options.priority ?? parent.priority,
      },
      this.#options.defaultTaskTimeoutMs,
      clock.now(),
    );
    return { ...built!, ...inheritedFields(parent) };
  }

  /** Cancels the unfinished children of a stopped parent; each child's own end cancels its children in turn. */
  async #cancelChildren(parentId: string): Promise<void> {
    const { store, clock } = this.#options;
    const seen = new Set<string>();
    for (;;) {
      const page = await store.listTasks({ parent: parentId, state: ['queued', 'running'], limit: 100 });
      const fresh = page.items.filter((child) => !seen.has(child.id));
      if (fresh.length === 0) return;
      for (const child of fresh) {
        seen.add(child.id);
        try {
          await this.#options.cancel(child.id);
        } catch (error) {
          // Finished meanwhile: nothing to cancel.
          if (isPlugboardError(error) && error.code === 'PLUGBOARD_TASK_FINISHED') continue;
          throw error;
        }
        // The recorded reason names the parent, whichever runtime recorded the cancel.
        await store.updateTask(child.id, { error: orphanPatch(parentId, clock.now()).error });
      }
    }
  }
}

function checkSpawnOptions(options: SpawnOptions): void {
  if (options === null || typeof options !== 'object') throw invalidOption('options', 'an object', options);
  if (options.priority !== undefined && !Number.isFinite(options.priority))
    throw invalidOption('priority', 'a finite number', options.priority);
  numberOption('timeoutMs', options.timeoutMs, { min: 1, max: MAX_TIMER_MS, allowNull: true });
}
