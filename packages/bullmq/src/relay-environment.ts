import type { TaskLogEntry, TaskProgressEvent, TaskRecord, TaskStore } from '@plugboard/core';
import type { RuntimeEnvironment } from '@plugboard/core/spi';
import type { ExecutionSettings } from './task-update.js';
import type { UpdatePublisher } from './update-publisher.js';

/** What starting an attempt changes in a task's record. */
function startPatch(record: TaskRecord): Partial<TaskRecord> {
  return {
    state: record.state,
    attempt: record.attempt,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
    progress: record.progress,
    progressMessage: record.progressMessage,
  };
}

function relayOnly(): never {
  throw new Error('A worker relays task updates to Redis; it keeps no task store of its own.');
}

/**
 * The environment one task's execution runs with on a worker: its store writes and events are published on the
 * queue's update stream (and re-emitted on the worker's own bus), where the API processes apply them.
 */
export function relayEnvironment(
  base: RuntimeEnvironment,
  settings: ExecutionSettings,
  publisher: UpdatePublisher,
  record: TaskRecord,
  local: RuntimeEnvironment['events'],
): RuntimeEnvironment {
  const store: TaskStore = {
    name: 'bullmq-relay',
    open: async () => {},
    close: async () => {},
    updateTask: async (id: string, patch: Partial<TaskRecord>) => {
      // The write that marks the attempt running is followed at once by `task:started`, whose update carries it.
      if (patch.state === 'running') return;
      publisher.publish({ type: 'patch', id, patch });
    },
    appendLogs: async (id: string, entries: readonly TaskLogEntry[]) => {
      publisher.publish({ type: 'logs', id, pluginId: record.pluginId, userId: record.user.id, entries });
    },
    insertTask: relayOnly,
    getTask: relayOnly,
    listTasks: relayOnly,
    listUnfinishedTasks: relayOnly,
    getLogs: relayOnly,
    saveSchedule: relayOnly,
    getSchedule: relayOnly,
    listSchedules: relayOnly,
    deleteSchedule: relayOnly,
    savePluginEntry: relayOnly,
    getPluginEntry: relayOnly,
    listPluginEntries: relayOnly,
  };
  // TaskExecution only emits on its environment's bus: forward each event, never keep listeners here.
  const emit = (event: string, payload: unknown): boolean => {
    if (event === 'task:started') {
      const started = payload as TaskRecord;
      publisher.publish({ type: 'started', id: started.id, patch: startPatch(started) });
    } else if (event === 'task:progress')
      publisher.publish({ type: 'progress', event: payload as TaskProgressEvent });
    // Log lines travel in the store's batches; API processes emit `task:log` per line as they store them.
    return (local.emit as (event: string, payload: unknown) => boolean)(event, payload);
  };
  const events = { emit } as unknown as RuntimeEnvironment['events'];
  return {
    ...base,
    store,
    events,
    logLevel: settings.logLevel,
    maxLogLineLength: settings.maxLogLineLength,
    progressIntervalMs: settings.progressIntervalMs,
  };
}
