import { type ChildProcess, spawn } from 'node:child_process';

// A child process whose task spins never runs its own 'disconnect' handler, so it cannot notice that its host
// was killed. The reaper is a small process of its own, with nothing to block its event loop: when the host's
// end closes its IPC channel, whatever the cause, it ends every task process the host told it about.
const REAPER_SOURCE = `
const pids = new Set();
process.on('message', (m) => { if (m.watch) pids.add(m.watch); if (m.forget) pids.delete(m.forget); });
process.on('disconnect', () => {
  for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch {} }
  process.exit(0);
});
`;

/** Ends the host's task processes when the host itself ends, even when it is killed. */
export class ProcessReaper {
  #reaper: ChildProcess | undefined;

  /** Starts watching a task process (and the reaper itself, the first time). */
  watch(pid: number | undefined): void {
    if (pid === undefined) return;
    if (!this.#reaper || this.#reaper.exitCode !== null || !this.#reaper.connected) {
      this.#reaper = spawn(process.execPath, ['-e', REAPER_SOURCE], {
        stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      });
      this.#reaper.on('error', () => {});
      // The reaper must not keep the host alive.
      this.#reaper.unref();
      (this.#reaper.channel as { unref?: () => void } | undefined)?.unref?.();
    }
    this.#send({ watch: pid });
  }

  /** Stops watching a task process that ended. */
  forget(pid: number | undefined): void {
    if (pid !== undefined) this.#send({ forget: pid });
  }

  /** Ends the reaper, which ends any task process still watched. */
  close(): void {
    if (this.#reaper?.connected) this.#reaper.disconnect();
    this.#reaper = undefined;
  }

  #send(message: object): void {
    try {
      if (this.#reaper?.connected) this.#reaper.send(message);
    } catch {
      // The reaper is gone; the next task process starts a new one.
    }
  }
}
