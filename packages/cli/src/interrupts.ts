/**
 * Signals closer together than this are one interrupt: npm and npx forward the terminal's Ctrl-C to a child that
 * the terminal has already sent it to, and that copy must not count as a second Ctrl-C.
 */
export const SAME_INTERRUPT_MS = 500;

/** Where interrupts come from: the process's SIGINT and SIGTERM (when handled) and an embedding program's signal. */
export interface InterruptSources {
  readonly signal: AbortSignal | undefined;
  readonly handleSignals: boolean;
}

/**
 * The interrupts of one CLI invocation (Ctrl-C, SIGTERM, the `signal` option), counted from its start to its end.
 * Listening the whole time means a signal that arrives while no task is followed (a forwarded copy, one during
 * shutdown) is counted rather than ending the process with a status that is none of the CLI's exit codes.
 */
export class CliInterrupts {
  readonly #sources: InterruptSources;
  readonly #listeners = new Set<() => void>();
  #count = 0;
  #lastSignalAt = Number.NEGATIVE_INFINITY;
  readonly #onSignal = () => {
    const now = performance.now();
    if (now - this.#lastSignalAt < SAME_INTERRUPT_MS) return;
    this.#lastSignalAt = now;
    this.#interrupt();
  };
  readonly #onAbort = () => this.#interrupt();

  constructor(sources: InterruptSources) {
    this.#sources = sources;
    if (sources.handleSignals) {
      process.on('SIGINT', this.#onSignal);
      process.on('SIGTERM', this.#onSignal);
    }
    sources.signal?.addEventListener('abort', this.#onAbort);
    if (sources.signal?.aborted) this.#count++;
  }

  /** Interrupts so far. */
  get count(): number {
    return this.#count;
  }

  /** Calls `listener` on every interrupt from now on; returns the function that stops it. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops listening to the process and to the signal. */
  close(): void {
    this.#listeners.clear();
    process.off('SIGINT', this.#onSignal);
    process.off('SIGTERM', this.#onSignal);
    this.#sources.signal?.removeEventListener('abort', this.#onAbort);
  }

  #interrupt(): void {
    this.#count++;
    for (const listener of [...this.#listeners]) listener();
  }
}
