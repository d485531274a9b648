import type { TaskLogEvent, TaskProgressEvent, TaskRecord } from '@plugboard/core';
import type { CliStream } from '../cli-options.js';
import type { Palette } from '../colors.js';
import { finishLines, paintLevel, summaryLine, type TaskView, taskLabel } from './task-view.js';

/** Prints one line per event: for pipes, files and CI logs, where a redrawn bar would be noise. */
export class PlainTaskView implements TaskView {
  readonly #out: CliStream;
  readonly #palette: Palette;
  readonly #labels = new Map<string, string>();
  readonly #percent = new Map<string, number>();
  readonly #finished: TaskRecord[] = [];
  readonly #total: number;

  constructor(out: CliStream, palette: Palette, total: number) {
    this.#out = out;
    this.#palette = palette;
    this.#total = total;
  }

  add(record: TaskRecord): void {
    const label = taskLabel(record, this.#labels.size, this.#total);
    this.#labels.set(record.id, label);
    this.#line(`${label} queued (task ${record.id})`);
  }

  started(record: TaskRecord): void {
    this.#line(`${this.#label(record.id)} running`);
  }

  progress(event: TaskProgressEvent): void {
    const percent = Math.floor(event.progress);
    // Coalesced events may repeat a percentage; a line per change is enough.
    if (this.#percent.get(event.id) === percent && !event.message) return;
    this.#percent.set(event.id, percent);
    const text = event.message ?? event.statusText;
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
