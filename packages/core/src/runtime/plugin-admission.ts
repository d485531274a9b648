import type { TaskRecord } from '../task.js';
import { type PluginLimits, waitingForPluginSlot } from './plugin-limits.js';

interface Waiting {
  readonly record: TaskRecord;
  readonly start: (release: () => void) => void;
  /** True once the record says it waits for its plugin's slot. */
  marked: boolean;
}

/** One plugin's waiting tasks and what it runs and started lately. */
interface Lane {
  readonly pluginId: string;
  /** Its place in the order lanes take turns in. */
  readonly index: number;
  readonly waiting: WaitingList;
  running: number;
  /** Start times within the last interval, oldest first. */
  readonly starts: number[];
}

/** What {@link PluginAdmission} works with. */
export interface PluginAdmissionOptions {
  /** The limits of a plugin, or `undefined` for none. */
  limits(pluginId: string): PluginLimits | undefined;
  /** True while the runtime has a free slot: a task handed over now starts at once. */
  hasCapacity(): boolean;
  /** The clock the rate windows are measured on. */
  now(): number;
  /** Records on a queued task why it waits (`reason`), or that it no longer does (`null`). */
  markWaiting(record: TaskRecord, reason: string | null): void;
}

/**
 * Admission in front of a runtime's queue: a task is handed to the queue only when the runtime has a free slot
 * and its plugin's limits allow it to start. Tasks that cannot start wait in one lane per plugin, and free slots
 * go to the lanes in turn (the highest priority first), so a plugin with thousands of queued tasks takes one
 * turn like any other and does not starve them. Nothing is dropped: a waiting task starts when its turn comes.
 */
export class PluginAdmission {
  readonly #options: PluginAdmissionOptions;
  readonly #lanes = new Map<string, Lane>();
  /** The lanes in the order they take turns in. */
  readonly #turns: Lane[] = [];
  #waiting = 0;
  /** The lane served last: the next free slot is offered to the lanes after it first. */
  #lastServed: string | undefined;
  #rateTimer: ReturnType<typeof setTimeout> | undefined;
  #rateTimerAt = 0;

  constructor(options: PluginAdmissionOptions) {
    this.#options = options;
  }

  /** Tasks waiting for a slot. */
  get waiting(): number {
    return this.#waiting;
  }

  /**
   * Starts the task now (`start` is called at once) or when its turn comes. `start` gets `release`, to be called
   * once the attempt has ended, which frees the plugin's slot.
   */
  admit(record: TaskRecord, start: (release: () => void) => void): void {
    const options = this.#options;
    const limits = options.limits(record.pluginId);
    // The common case costs a lookup: no limits, no one waiting, a free slot.
    if (limits === undefined && this.#waiting === 0 && options.hasCapacity()) {
      this.#lastServed = record.pluginId;
      start(noRelease);
      return;
    }
    const lane = this.#lane(record.pluginId);
    const now = options.now();
    const allowed = limits === undefined || this.#allows(lane, limits, now);
    if (allowed && this.#waiting === 0 && options.hasCapacity()) {
      this.#lastServed = record.pluginId;
      this.#begin(lane, limits, now, start);
      return;
    }
    const entry: Waiting = { record, start, marked: false };
    lane.waiting.insert(entry);
    this.#waiting++;
    if (!allowed) {
      entry.marked = true;
      options.markWaiting(record, waitingForPluginSlot(record.pluginId));
      this.#armRateTimer(lane, limits!, now);
    }
  }

  /** Hands free slots to waiting tasks, one lane at a time; call it whenever a slot or a plugin's slot frees. */
  drain(): void {
    const options = this.#options;
    while (this.#waiting > 0 && options.hasCapacity()) {
      const now = options.now();
      const lane = this.#nextLane(now);
      if (!lane) return;
      const entry = lane.waiting.take();
      this.#waiting--;
      this.#lastServed = lane.pluginId;
      if (entry.marked) options.markWaiting(entry.record, null);
      this.#begin(lane, options.limits(lane.pluginId), now, entry.start);
    }
  }

  /** Takes a waiting task out (it was cancelled); false when it is not waiting here. */
  withdraw(taskId: string): boolean {
    for (const lane of this.#turns) {
      if (lane.waiting.remove(taskId)) {
        this.#waiting--;
        return true;
      }
    }
    return false;
  }

  /** Forgets every waiting task (the runtime stops; they stay queued in the store). */
  clear(): void {
    for (const lane of this.#turns) lane.waiting.clear();
    this.#waiting = 0;
    if (this.#rateTimer) clearTimeout(this.#rateTimer);
    this.#rateTimer = undefined;
  }

  #lane(pluginId: string): Lane {
    let lane = this.#lanes.get(pluginId);
    if (!lane) {
      lane = { pluginId, index: this.#turns.length, waiting: new WaitingList(), running: 0, starts: [] };
      this.#lanes.set(pluginId, lane);
      this.#turns.push(lane);
    }
    return lane;
  }

  #begin(
    lane: Lane,
    limits: PluginLimits | undefined,
    now: number,
    start: (release: () => void) => void,
  ): void {
    if (limits === undefined) {
      start(noRelease);
      return;
    }
    lane.running++;
    if (limits.intervalCap !== undefined) lane.starts.push(now);
    let released = false;
    start(() => {
      if (released) return;
      released = true;
      lane.running--;
      this.drain();
    });
  }

  #allows(lane: Lane, limits: PluginLimits, now: number): boolean {
    if (limits.concurrency !== undefined && lane.running >= limits.concurrency) return false;
    if (limits.intervalCap === undefined) return true;
    const since = now - (limits.intervalMs ?? 1000);
    while (lane.starts.length > 0 && lane.starts[0]! <= since) lane.starts.shift();
    return lane.starts.length < limits.intervalCap;
  }

  /**
   * The lane whose first task starts next: among the lanes whose limits allow a start, the highest priority; on
   * a tie, the first lane after the one served last. Lanes held back by their limits get their reason recorded.
   */
  #nextLane(now: number): Lane | undefined {
    const lanes = this.#turns;
    const from = this.#lastServed === undefined ? -1 : (this.#lanes.get(this.#lastServed)?.index ?? -1);
    let best: Waiting | undefined;
    let bestLane: Lane | undefined;
    for (let i = 1; i <= lanes.length; i++) {
      const lane = lanes[(from + i) % lanes.length]!;
      const head = lane.waiting.first();
      if (!head) continue;
      const limits = this.#options.limits(lane.pluginId);
      if (limits !== undefined && !this.#allows(lane, limits, now)) {
        this.#markLane(lane);
        this.#armRateTimer(lane, limits, now);
        continue;
      }
      if (!best || head.record.priority > best.record.priority) {
        best = head;
        bestLane = lane;
      }
    }
    return bestLane;
  }

  /** Records the reason on the lane's tasks that waited for the runtime until now and wait for the plugin now. */
  #markLane(lane: Lane): void {
    for (const entry of lane.waiting) {
      if (entry.marked) continue;
      entry.marked = true;
      this.#options.markWaiting(entry.record, waitingForPluginSlot(lane.pluginId));
    }
  }

  /** A lane held back by its rate only is looked at again when its oldest start leaves the window. */
  #armRateTimer(lane: Lane, limits: PluginLimits, now: number): void {
    if (limits.intervalCap === undefined || lane.starts.length < limits.intervalCap) return;
    if (limits.concurrency !== undefined && lane.running >= limits.concurrency) return;
    const at = lane.starts[0]! + (limits.intervalMs ?? 1000) + 1;
    if (this.#rateTimer && this.#rateTimerAt <= at) return;
    if (this.#rateTimer) clearTimeout(this.#rateTimer);
    this.#rateTimerAt = at;
    this.#rateTimer = setTimeout(
      () => {
        this.#rateTimer = undefined;
        this.drain();
      },
      Math.max(0, at - now),
    );
    this.#rateTimer.unref?.();
  }
}

function noRelease(): void {}

/**
 * One plugin's waiting tasks, highest priority first, then oldest. Taking the first costs the same however many
 * wait: a plugin with thousands queued is served as cheaply as one with a few.
 */
class WaitingList {
  #items: (Waiting | undefined)[] = [];
  #head = 0;

  first(): Waiting | undefined {
    return this.#items[this.#head];
  }

  take(): Waiting {
    const entry = this.#items[this.#head]!;
    this.#items[this.#head++] = undefined;
    // The taken slots are dropped once they are most of the array.
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return entry;
  }

  /** Inserts after every entry of the same or a higher priority: higher first, then first come, first served. */
  insert(entry: Waiting): void {
    const items = this.#items;
    const priority = entry.record.priority;
    if (items.length === this.#head || items.at(-1)!.record.priority >= priority) {
      items.push(entry);
      return;
    }
    let low = this.#head;
    let high = items.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (items[mid]!.record.priority >= priority) low = mid + 1;
      else high = mid;
    }
    items.splice(low, 0, entry);
  }

  remove(taskId: string): boolean {
    const items = this.#items;
    for (let i = this.#head; i < items.length; i++) {
      if (items[i]!.record.id === taskId) {
        items.splice(i, 1);
        return true;
      }
    }
    return false;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
  }

  *[Symbol.iterator](): Iterator<Waiting> {
    for (let i = this.#head; i < this.#items.length; i++) yield this.#items[i]!;
  }
}
