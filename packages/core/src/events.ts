import type { PluginStatus } from './registry.js';
import type { TaskLogEntry, TaskRecord } from './task.js';

/** A task's progress, as coalesced for listeners. */
export interface TaskProgressEvent {
  readonly id: string;
  readonly pluginId: string;
  readonly userId: string;
  readonly progress: number;
  readonly message: string | null;
  readonly statusText: string | null;
}

/** A line written to a task's log. */
export interface TaskLogEvent {
  readonly id: string;
  readonly pluginId: string;
  readonly userId: string;
  readonly entry: TaskLogEntry;
}

/** A plugin's status changed. */
export interface PluginStatusEvent {
  readonly id: string;
  readonly status: PluginStatus;
  readonly previous: PluginStatus | null;
  readonly reason: string | null;
}

/** A schedule fired or changed. */
export interface ScheduleEvent {
  readonly id: string;
  readonly pluginId: string;
  readonly taskIds: readonly string[];
}

/** The typed event map of the host's bus. */
export interface HostEvents {
  'plugin:status': [event: PluginStatusEvent];
  'task:queued': [record: TaskRecord];
  'task:started': [record: TaskRecord];
  'task:progress': [event: TaskProgressEvent];
  'task:log': [event: TaskLogEvent];
  'task:finished': [record: TaskRecord];
  'schedule:fired': [event: ScheduleEvent];
  /** Something went wrong outside any task (a store write, a listener); the host keeps running. */
  error: [error: Error];
}

/** The names of the host's events. */
export type HostEventName = keyof HostEvents;
