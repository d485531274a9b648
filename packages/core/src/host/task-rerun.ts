import { createTaskId } from '../ids.js';
import type { PlugboardUser, TaskRecord } from '../task.js';

/**
 * The `queued` record of a new run of a finished task: the same plugin, task type, input, context, timeout and
 * priority, a fresh id and attempt count, run by `user` (the person who asked for it).
 */
export function rerunRecord(previous: TaskRecord, user: PlugboardUser, now: number): TaskRecord {
  return {
    id: createTaskId(now),
    pluginId: previous.pluginId,
    taskType: previous.taskType,
    input: previous.input,
    user,
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
    maxAttempts: previous.maxAttempts,
    priority: previous.priority,
    timeoutMs: previous.timeoutMs,
    scheduleId: null,
    contextId: previous.contextId,
    logCount: 0,
  };
}
