import type { TaskLogEvent, TaskProgressEvent, TaskRecord } from '@plugboard/core';
import type { CliStream } from '../cli-options.js';
import type { Palette } from '../colors.js';
import {
  finishLines,
  type PluginNames,
  paintLevel,
  summaryLine,
  type TaskView,
  taskLabel,
} from './task-view.js';

/** Prints one line per event: for pipes, files and CI logs, where a redrawn bar would be noise. */
export class PlainTaskView implements TaskView {
  readonly #out: CliStream;
  readonly #palette: Palette;
  readonly #labels = new Map<string, string>();
  readonly #shown = new Map<string, { step: number; text: string | null }>();
  readonly #finished: TaskRecord[] = [];
  readonly #total: number;

  readonly #names: PluginNames | undefined;

  constructor(out: CliStream, palette: Palette, total: number, names?: PluginNames) {
    this.#names = names;
    this.#out = out;
    this.#palette = palette;
    this.#total = total;
  }

  add(record: TaskRecord): void {
    const label = taskLabel(record, this.#labels.size, this.#total, this.#names);
    this.#labels.set(record.id, label);
    this.#line(`${label} queued (task ${record.id})`);
  }

  started(record: TaskRecord): void {
    this.#line(`${this.#label(record.id)} running`);
  }

  progress(event: TaskProgressEvent): void {
    const percent = Math.floor(event.progress);
    const text = event.message ?? event.statusText;
    // A line per 10% step or new message keeps a log file readable when a task reports every 1%.
    const step = Math.floor(percent / 10);
    const last = this.#shown.get(event.id);
    if (last && last.step === step && last.text === text) return;
    this.#shown.set(event.id, { step, text });
    this.#line(`${this.#label(event.id)} ${percent}%${text ? ` ${text}` : ''}`);
  }

  log(event: TaskLogEvent): void {
    this.#line(
      `${this.#label(event.id)} ${paintLevel(this.#palette, event.entry.level)} ${event.entry.message}`,
    );
  }

  finished(record: TaskRecord): void {
    this.#finished.push(record);
    for (const line of finishLines(this.#palette, this.#label(record.id), record)) this.#line(line);
  }

  note(text: string): void {
    this.#line(this.#palette.yellow(text));
  }

  close(): void {
    const summary = summaryLine(this.#palette, this.#finished);
    if (summary) this.#line(summary);
  }

  #label(id: string): string {
    return this.#labels.get(id) ?? id;
  }

  #line(text: string): void {
    this.#out.write(`${text}\n`);
  }
}
