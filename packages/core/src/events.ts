import type { PluginReload } from './plugins/plugin-reloader.js';
import type { PluginStatus } from './plugins/registry.js';
import type { TaskLogEntry, TaskRecord } from './task.js';

/** A task's progress, as coalesced for listeners. */
export interface TaskProgressEvent {
  /** The task's id. */
  readonly id: string;
  /** The plugin that created the task. */
  readonly pluginId: string;
  /** The id of the user the task runs for. */
  readonly userId: string;
  /** Progress in percent, 0 to 100. */
  readonly progress: number;
  /** The message given with the latest progress report, if any. */
  readonly message: string | null;
  /** The task's one-line status text, if it set one. */
  readonly statusText: string | null;
}

/** A line written to a task's log. */
export interface TaskLogEvent {
  /** The task's id. */
  readonly id: string;
  /** The plugin that created the task. */
  readonly pluginId: string;
  /** The id of the user the task runs for. */
  readonly userId: string;
  /** The line as it is stored. */
  readonly entry: TaskLogEntry;
}

/** A plugin's status changed. */
export interface PluginStatusEvent {
  /** The plugin's id. */
  readonly id: string;
  /** The status it has now. */
  readonly status: PluginStatus;
  /** The status it had before, or `null` when it was just registered. */
  readonly previous: PluginStatus | null;
  /** Why it is not operational, in a sentence a person can act on; `null` when it is. */
  readonly reason: string | null;
}

/** A schedule fired or changed. */
export interface ScheduleEvent {
  /** The schedule's id. */
  readonly id: string;
  /** The background-task plugin the schedule belongs to. */
  readonly pluginId: string;
  /** The tasks this run of the schedule queued. */
  readonly taskIds: readonly string[];
}

/** The typed event map of the host's bus. */
export interface HostEvents {
  /**
   * A plugin moved to another status (at start, on a readiness re-check, when disabled or enabled), or a new
   * version of it was swapped in by a reload (then `previous` may equal `status`).
   */
  'plugin:status': [event: PluginStatusEvent];
  /**
   * A plugin module was reloaded while the host ran (by the folder watcher or `host.plugins.reload()`): which
   * plugins were reloaded, added or removed, and what failed; a failed reload leaves the old version running.
   */
  'plugin:reloaded': [reload: PluginReload];
  /** A task was stored and waits for the runtime. */
  'task:queued': [record: TaskRecord];
  /** An attempt of a task began to run. */
  'task:started': [record: TaskRecord];
  /** A task reported progress or status; reports are coalesced, so a listener is not flooded. */
  'task:progress': [event: TaskProgressEvent];
  /** A task wrote a line to its log. */
  'task:log': [event: TaskLogEvent];
  /** A task reached a final state; the record holds its result or error. */
  'task:finished': [record: TaskRecord];
  /** A background schedule ran and queued its tasks. */
  'schedule:fired': [event: ScheduleEvent];
  /** Something went wrong outside any task (a store write, a listener); the host keeps running. */
  error: [error: Error];
}

/** The names of the host's events. */
export type HostEventName = keyof HostEvents;
