/**
 * Keeps the process alive while someone waits on a task that can still end. The host's own timers (a retry's
 * delay, the schedule wheel) are unref'd so that an idle host never holds a process open; a script that awaits
 * `host.tasks.wait(id)` on a task waiting for its retry would then exit mid-wait with nothing printed. One ref'd
 * timer is held while any wait is pending, and dropped once the host stops, when its tasks can no longer end here.
 */
export class WaitKeepAlive {
  readonly #holders = new Set<object>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  /** Holds the process open until the returned function is called (once or more). */
  hold(): () => void {
    if (this.#closed) return () => {};
    const holder = {};
    this.#holders.add(holder);
    // The longest delay a timer takes; it only has to exist, never to fire.
    this.#timer ??= setInterval(() => {}, 2 ** 31 - 1);
    return () => {
      this.#holders.delete(holder);
      if (this.#holders.size === 0) this.#drop();
    };
  }

  /** The host stopped: pending waits no longer hold the process open. */
  close(): void {
    this.#closed = true;
    this.#holders.clear();
    this.#drop();
  }

  #drop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
