import type { TaskLogEvent, TaskProgressEvent, TaskRecord } from '@plugboard/core';
import type { Palette } from '../colors.js';

/** Shows the tasks of one run as they progress: progress bars on a terminal, plain lines elsewhere. */
export interface TaskView {
  /** A task of the run is known (queued). */
  add(record: TaskRecord): void;
  started(record: TaskRecord): void;
  progress(event: TaskProgressEvent): void;
  log(event: TaskLogEvent): void;
  finished(record: TaskRecord): void;
  /** A message about the run itself, e.g. that tasks are being cancelled. */
  note(text: string): void;
  /** The run is over: stop drawing and print the summary. */
  close(): void;
}

/** Finds the display name of a plugin by id; `undefined` when the host does not know it. */
export type PluginNames = (pluginId: string) => string | undefined;

/** How a task is named in output: its plugin's name (its type when unknown), numbered when the run created several. */
export function taskLabel(record: TaskRecord, index: number, total: number, names?: PluginNames): string {
  const name = names?.(record.pluginId) ?? record.taskType;
  return total > 1 ? `${name}#${index + 1}` : name;
}

/** A final state painted for a person. */
export function paintState(palette: Palette, state: TaskRecord['state']): string {
  switch (state) {
    case 'succeeded':
      return palette.green(state);
    case 'cancelled':
      return palette.yellow(state);
    case 'failed':
    case 'timed-out':
    case 'interrupted':
      return palette.red(state);
    default:
      return state;
  }
}

/** A log level painted for a person. */
export function paintLevel(palette: Palette, level: TaskLogEvent['entry']['level']): string {
  const padded = level.padEnd(5);
  if (level === 'warn') return palette.yellow(padded);
  if (level === 'error' || level === 'critical') return palette.red(padded);
  if (level === 'debug') return palette.dim(padded);
  return padded;
}

function duration(record: TaskRecord): string {
  if (record.startedAt === null || record.finishedAt === null) return '';
  return ` in ${((record.finishedAt - record.startedAt) / 1000).toFixed(2)} s`;
}

/** The lines that end a task's output: its final state, then its result or error. */
export function finishLines(palette: Palette, label: string, record: TaskRecord): string[] {
  const lines = [`${label} ${paintState(palette, record.state)}${duration(record)}`];
  if (record.state === 'succeeded') {
    if (record.result !== undefined && record.result !== null) {
      lines.push(`${label} result: ${JSON.stringify(record.result)}`);
    }
  } else if (record.error) {
    lines.push(`${label} ${palette.red(`${record.error.message} (${record.error.code})`)}`);
  }
  return lines;
}

/** One line summing up a run of several tasks, e.g. "3 tasks: 2 succeeded, 1 failed". */
export function summaryLine(palette: Palette, records: readonly TaskRecord[]): string | null {
  if (records.length < 2) return null;
  const counts = new Map<TaskRecord['state'], number>();
  for (const r of records) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
  const parts = [...counts].map(([state, n]) => `${n} ${paintState(palette, state)}`);
  return `${records.length} tasks: ${parts.join(', ')}`;
}

/** A view that shows nothing: `--json` prints only the final records. */
export const silentTaskView: TaskView = {
  add() {},
  started() {},
  progress() {},
  log() {},
  finished() {},
  note() {},
  close() {},
};
