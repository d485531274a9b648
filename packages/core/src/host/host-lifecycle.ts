import { PlugboardError } from '../errors.js';
import type { HostState } from './host-options.js';

/** Where the host is in its lifecycle, in one place: methods that need a started host ask it. */
export class HostLifecycle {
  #state: HostState = 'created';

  /** The state now. */
  get state(): HostState {
    return this.#state;
  }

  /** True while the host takes work. */
  get started(): boolean {
    return this.#state === 'started';
  }

  /** Moves to `state`. */
  enter(state: HostState): void {
    this.#state = state;
  }

  /** Throws unless the host is started: `PLUGBOARD_HOST_NOT_STARTED` before, `PLUGBOARD_HOST_STOPPING` after. */
  requireStarted(): void {
    if (this.#state === 'started') return;
    if (this.#state === 'stopping' || this.#state === 'stopped') {
      throw new PlugboardError(
        'PLUGBOARD_HOST_STOPPING',
        'The host is stopping or stopped and accepts no new work.',
      );
    }
    throw new PlugboardError(
      'PLUGBOARD_HOST_NOT_STARTED',
      'The host has not been started: await host.start() first.',
    );
  }
}
