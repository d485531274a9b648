import type { Clock } from '../clock.js';

/** The longest delay a Node.js timer accepts. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * One timer for every schedule: a min-heap of due times, with one clock timer armed for the earliest.
 * An idle host with thousands of schedules has a single pending timer and no polling.
 */
export class TimerWheel {
  readonly #clock: Clock;
  readonly #onDue: (id: string, dueAt: number) => void;
  readonly #due = new Map<string, number>();
  #heap: Array<{ at: number; id: string }> = [];
  #timer: unknown;
  #armedFor: number | undefined;
  #stopped = false;

  constructor(clock: Clock, onDue: (id: string, dueAt: number) => void) {
    this.#clock = clock;
    this.#onDue = onDue;
  }

  /** Sets (or clears, with `null`) when `id` is next due. */
  set(id: string, at: number | null): void {
    if (at === null) {
      this.#due.delete(id);
      return;
    }
    this.#due.set(id, at);
    this.#push({ at, id });
    this.#arm();
  }

  /** When `id` is next due, if it is armed. */
  dueAt(id: string): number | undefined {
    return this.#due.get(id);
  }

  /** How many schedules are armed. */
  get size(): number {
    return this.#due.size;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#due.clear();
    this.#heap = [];
  }

  #arm(): void {
    if (this.#stopped) return;
    this.#dropStale();
    const next = this.#heap[0];
    // Nothing left (only after a firing, which has already let go of its timer): no timer to arm.
    if (!next) return;
    if (this.#timer !== undefined && this.#armedFor === next.at) return;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#armedFor = next.at;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, next.at - this.#clock.now()));
    this.#timer = this.#clock.setTimeout(() => this.#fire(), delay);
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedFor = undefined;
    const now = this.#clock.now();
    const fired: Array<{ at: number; id: string }> = [];
    for (;;) {
      this.#dropStale();
      const top = this.#heap[0];
      if (!top || top.at > now) break;
      this.#pop();
      this.#due.delete(top.id);
      fired.push(top);
    }
    for (const { id, at } of fired) this.#onDue(id, at);
    this.#arm();
  }

  /** Heap entries whose schedule was moved or cleared are skipped lazily. */
  #dropStale(): void {
    while (this.#heap.length > 0) {
      const top = this.#heap[0]!;
      if (this.#due.get(top.id) === top.at) return;
      this.#pop();
    }
  }

  #push(entry: { at: number; id: string }): void {
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.at <= entry.at) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right]!.at < heap[left]!.at ? right : left;
      if (heap[child]!.at >= last.at) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
  }
}
