import type { Host, TaskLogEvent, TaskProgressEvent, TaskRecord } from '@plugboard/core';
import type { CliInterrupts } from './interrupts.js';
import type { TaskView } from './views/task-view.js';

type Buffered =
  | { readonly kind: 'started'; readonly id: string; readonly payload: TaskRecord }
  | { readonly kind: 'progress'; readonly id: string; readonly payload: TaskProgressEvent }
  | { readonly kind: 'log'; readonly id: string; readonly payload: TaskLogEvent };

/** What ends a follow early: Ctrl-C (SIGINT, SIGTERM) and an embedding program's AbortSignal. */
export interface FollowInterrupts {
  /** The invocation's interrupts; one that came before the tasks existed is acted on once they do. */
  readonly interrupts: CliInterrupts;
  /**
   * Stops the host at once, recording the tasks still running `interrupted`: what a second interrupt does when
   * the CLI started the host. Without it (a host started by the embedding program, which keeps running) a second
   * interrupt records them `cancelled` at once instead.
   */
  readonly stopHost: (() => Promise<void>) | undefined;
}

/**
 * Follows the tasks of one run on the host's event bus until each is final. It listens from construction,
 * before `host.execute` queues anything, so the first progress and log events of a fast task are not lost.
 * The first interrupt cancels the tasks that are still running and waits until their code has stopped; a second
 * one stops waiting for them.
 */
export class TaskFollower {
  readonly #host: Host<any>;
  readonly #buffer: Buffered[] = [];
  readonly #done = new Set<string>();
  readonly #options: FollowInterrupts;
  #ids: ReadonlySet<string> | undefined;
  #view: TaskView | undefined;
  #stopListening: (() => void) | undefined;
  readonly #onStarted = (record: TaskRecord) =>
    this.#receive({ kind: 'started', id: record.id, payload: record });
  readonly #onProgress = (event: TaskProgressEvent) =>
    this.#receive({ kind: 'progress', id: event.id, payload: event });
  readonly #onLog = (event: TaskLogEvent) => this.#receive({ kind: 'log', id: event.id, payload: event });

  constructor(host: Host<any>, interrupts: FollowInterrupts) {
    this.#host = host;
    this.#options = interrupts;
    host.events.on('task:started', this.#onStarted);
    host.events.on('task:progress', this.#onProgress);
    host.events.on('task:log', this.#onLog);
  }

  /** Shows `records` in `view` until every one is final, then closes the view and resolves the final records. */
  async follow(records: readonly TaskRecord[], view: TaskView): Promise<readonly TaskRecord[]> {
    this.#ids = new Set(records.map((r) => r.id));
    this.#view = view;
    for (const record of records) view.add(record);
    for (const event of this.#buffer.splice(0)) this.#receive(event);

    const finals = new Map<string, TaskRecord>();
    const all = Promise.all(
      records.map(async (record) => {
        const final = await this.#host.tasks.wait(record.id);
        finals.set(record.id, final);
        this.#done.add(record.id);
        view.finished(final);
      }),
    );
    let handled = 0;
    let stopping: Promise<void> | undefined;
    const onInterrupted = () => {
      const previous = handled;
      handled = this.#options.interrupts.count;
      const running = records.filter((r) => !this.#done.has(r.id));
      if (previous === 0 && handled > 0) {
        if (running.length > 0) {
          view.note(
            `Cancelling ${running.length} task${running.length === 1 ? '' : 's'}; interrupt again to stop waiting.`,
          );
        }
        for (const record of running) {
          // The record says `cancelled` once the task's code has stopped, not while it still runs. A task that
          // finished meanwhile refuses cancellation; its own final state stands.
          this.#host.tasks.cancel(record.id, { waitForStop: true }).catch(() => {});
        }
      }
      if (previous <= 1 && handled > 1 && running.length > 0) {
        const { stopHost } = this.#options;
        if (stopHost) {
          view.note('Stopped waiting; stopping now, tasks still running are recorded interrupted.');
          stopping = stopHost();
        } else {
          view.note('Stopped waiting; tasks still running are recorded cancelled.');
          for (const record of running) this.#host.tasks.cancel(record.id).catch(() => {});
        }
      }
    };
    this.#stopListening = this.#options.interrupts.subscribe(onInterrupted);
    onInterrupted();
    try {
      await all;
      // The stop that recorded the last tasks ends by closing the store; the caller may use it only after that.
      await stopping;
      return records.map((r) => finals.get(r.id)!);
    } finally {
      view.close();
      this.close();
    }
  }

  /** Stops listening to the host and to interrupts. */
  close(): void {
    this.#stopListening?.();
    this.#stopListening = undefined;
    this.#host.events.off('task:started', this.#onStarted);
    this.#host.events.off('task:progress', this.#onProgress);
    this.#host.events.off('task:log', this.#onLog);
  }

  #receive(event: Buffered): void {
    if (!this.#view || !this.#ids) {
      this.#buffer.push(event);
      return;
    }
    if (!this.#ids.has(event.id) || this.#done.has(event.id)) return;
    if (event.kind === 'started') this.#view.started(event.payload);
    else if (event.kind === 'progress') this.#view.progress(event.payload);
    else this.#view.log(event.payload);
  }
}
