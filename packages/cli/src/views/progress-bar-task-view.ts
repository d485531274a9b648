import type { TaskLogEvent, TaskProgressEvent, TaskRecord } from '@plugboard/core';
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { CliStream } from '../cli-options.js';
import type { Palette } from '../colors.js';
import {
  finishLines,
  type PluginNames,
  paintLevel,
  paintState,
  summaryLine,
  type TaskView,
  taskLabel,
} from './task-view.js';

// Log lines are written where bars were drawn; erasing the line first leaves no bar fragments behind.
const ERASE_LINE = '\u001b[2K';

/** Draws one progress bar per task on a terminal, with task log lines scrolling above the bars. */
export class ProgressBarTaskView implements TaskView {
  readonly #palette: Palette;
  readonly #bars: MultiBar;
  readonly #tasks = new Map<string, { label: string; bar: SingleBar }>();
  readonly #finished: TaskRecord[] = [];
  readonly #total: number;
  readonly #out: CliStream;

  readonly #names: PluginNames | undefined;

  constructor(out: CliStream, palette: Palette, total: number, names?: PluginNames) {
    this.#names = names;
    this.#out = out;
    this.#palette = palette;
    this.#total = total;
    this.#bars = new MultiBar(
      {
        stream: out as NodeJS.WritableStream,
        format: '{label} {bar} {percentage}% {state} {message}',
        barsize: 24,
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
        // Ctrl-C is ours: it cancels tasks, and the bars stop when the run ends.
        gracefulExit: false,
        // A forced TTY view on a stream that is no terminal still shows snapshots.
        noTTYOutput: out.isTTY !== true,
        notTTYSchedule: 1000,
        autopadding: true,
      },
      Presets.shades_classic,
    );
  }

  add(record: TaskRecord): void {
    const label = taskLabel(record, this.#tasks.size, this.#total, this.#names);
    const bar = this.#bars.create(100, 0, { label, state: 'queued', message: '' });
    this.#tasks.set(record.id, { label, bar });
  }

  started(record: TaskRecord): void {
    this.#tasks.get(record.id)?.bar.update({ state: 'running' });
  }

  progress(event: TaskProgressEvent): void {
    const text = event.message ?? event.statusText ?? '';
    this.#tasks.get(event.id)?.bar.update(Math.floor(event.progress), { message: text });
  }

  log(event: TaskLogEvent): void {
    const label = this.#tasks.get(event.id)?.label ?? event.id;
    this.#bars.log(
      `${ERASE_LINE}${label} ${paintLevel(this.#palette, event.entry.level)} ${event.entry.message}\n`,
    );
  }

  finished(record: TaskRecord): void {
    this.#finished.push(record);
    const task = this.#tasks.get(record.id);
    if (!task) return;
    task.bar.update(record.state === 'succeeded' ? 100 : Math.floor(record.progress), {
      state: paintState(this.#palette, record.state),
    });
    task.bar.stop();
  }

  note(text: string): void {
    this.#bars.log(`${ERASE_LINE}${this.#palette.yellow(text)}\n`);
  }

  close(): void {
    // One last redraw flushes buffered log lines above the bars before they stop.
    this.#bars.update();
    this.#bars.stop();
    const out: string[] = [];
    for (const record of this.#finished) {
      const label = this.#tasks.get(record.id)?.label ?? record.id;
      out.push(...finishLines(this.#palette, label, record).slice(1));
    }
    const summary = summaryLine(this.#palette, this.#finished);
    if (summary) out.push(summary);
    if (out.length > 0) this.#out.write(`${out.join('\n')}\n`);
  }
}
