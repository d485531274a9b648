import { PlugboardError } from '../errors.js';
import type { ChildTask, SpawnOptions, Task, TaskRecord, TaskState } from '../task.js';
import type { RuntimeEnvironment } from './runtime.js';

/** A child named by its task type within the parent's plugin and its JSON input: how an isolated worker asks. */
export interface ChildByType {
  /** The task type's name within the plugin (`taskType` or the class name). */
  readonly taskType: string;
  /** The JSON input the child is built from. */
  readonly input: unknown;
}

/** What `ctx.spawn` hands the host: the task itself, or its type and input when it was built in another thread. */
export type ChildRequest = Task<unknown, unknown> | ChildByType;

/** States of a parent in which its unfinished children are cancelled: it was stopped from outside. */
export const PARENT_STOPPED_STATES: ReadonlySet<TaskState> = new Set([
  'cancelled',
  'timed-out',
  'interrupted',
]);

/**
 * What a child takes from its parent: the link back and the executing user. The one place a child inherits, so
 * what tasks carry later (a trace context) is handed down here too.
 */
export function inheritedFields(parent: TaskRecord): Pick<TaskRecord, 'parentId' | 'user'> {
  return { parentId: parent.id, user: parent.user };
}

/**
 * The `ctx.spawn` of a running attempt: `parent` reads the attempt's record as it is now, `finished` says whether
 * the attempt has ended (a finished task cannot start children).
 */
export function spawnFunction(
  env: RuntimeEnvironment,
  parent: () => TaskRecord,
  finished: () => boolean,
): (task: Task<any, any>, options?: SpawnOptions) => Promise<ChildTask> {
  return async (task, options = {}) => {
    const record = parent();
    if (!env.spawnChild || !env.waitForTask) {
      throw new PlugboardError(
        'PLUGBOARD_SPAWN_UNAVAILABLE',
        `Task \`${record.id}\` cannot start child tasks on this runtime.`,
      );
    }
    if (finished()) {
      throw new PlugboardError(
        'PLUGBOARD_TASK_FINISHED',
        `Task \`${record.id}\` has finished; a finished task cannot start child tasks.`,
      );
    }
    const child = await env.spawnChild(record, task, options);
    const wait = env.waitForTask;
    return { id: child.id, wait: () => wait(child.id) };
  };
}

/** The patch that cancels a child whose parent was stopped (or whose parent's process died) before it ended. */
export function orphanPatch(parentId: string, now: number): Partial<TaskRecord> {
  return {
    state: 'cancelled',
    finishedAt: now,
    waitingReason: null,
    error: {
      code: 'PLUGBOARD_PARENT_STOPPED',
      message: `The parent task \`${parentId}\` was cancelled, timed out or interrupted before this child ended.`,
    },
  };
}
