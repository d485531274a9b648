import type { EventEmitter } from 'eventemitter3';
import type { Clock } from '../clock.js';
import type { PlugboardErrorCode } from '../errors.js';
import type { HostEvents } from '../events.js';
import type { PluginCatalogueEntry, TaskStore } from '../store/store.js';
import { checkReadiness, type ReadinessOutcome } from './readiness.js';
import type { PluginStatus, RegisteredPlugin } from './registry.js';

/** A status with the reason a person reads and its code. */
export interface StatusChange {
  /** The new status. */
  readonly status: PluginStatus;
  /** Why the plugin is not operational; `null` when it is. */
  readonly reason: string | null;
  /** The error code behind `reason`, or `null`. */
  readonly code: PlugboardErrorCode | null;
}

/** The state of a plugin an administrator disabled. */
export const DISABLED: StatusChange = {
  status: 'disabled',
  reason: 'An administrator disabled this plugin; enable it to run it again.',
  code: 'PLUGBOARD_PLUGIN_DISABLED',
};

/** The state of a disabled plugin enabled again that never passed validation. */
const NEVER_VALID: StatusChange = {
  status: 'invalid',
  reason: 'The plugin failed validation when the host started.',
  code: 'PLUGBOARD_INVALID_PLUGIN',
};

/** What {@link PluginStatusKeeper} works with. */
export interface PluginStatusKeeperOptions {
  readonly store: TaskStore;
  readonly clock: Clock;
  readonly events: EventEmitter<HostEvents>;
  /** How long a readiness check may take, unless the plugin sets its own limit. */
  readonly readinessTimeoutMs: number;
  reportError(error: unknown): void;
}

/**
 * The one place a plugin's status changes: readiness checks, disabling and enabling, each written to the plugin
 * catalogue in the store and announced as `plugin:status`.
 */
export class PluginStatusKeeper {
  readonly #options: PluginStatusKeeperOptions;

  constructor(options: PluginStatusKeeperOptions) {
    this.#options = options;
  }

  /** Sets a plugin's status; returns the previous one. */
  apply(plugin: RegisteredPlugin, change: StatusChange): PluginStatus {
    const previous = plugin.info.status;
    plugin.info = { ...plugin.info, status: change.status, reason: change.reason, code: change.code };
    return previous;
  }

  /** The status a valid plugin starts in: disabled when the catalogue says so, else what its readiness earns. */
  async settle(plugin: RegisteredPlugin, entry: PluginCatalogueEntry | undefined): Promise<void> {
    this.apply(plugin, entry?.enabled === false ? DISABLED : await this.#readiness(plugin));
  }

  /** Runs the readiness check again; a change is saved in the catalogue and announced when `announce` is true. */
  async recheck(plugin: RegisteredPlugin, announce = true): Promise<void> {
    const previous = this.apply(plugin, await this.#readiness(plugin));
    if (announce && previous !== plugin.info.status) {
      await this.save(plugin, await this.#options.store.getPluginEntry(plugin.info.id));
      this.announce(plugin, previous);
    }
  }

  /** Disables or enables a plugin (an enabled one is checked again), saves and announces the change. */
  async setEnabled(plugin: RegisteredPlugin, enabled: boolean): Promise<void> {
    const previous = plugin.info.status;
    if (!enabled) {
      if (previous !== 'disabled') this.apply(plugin, DISABLED);
    } else if (previous === 'disabled') {
      if (plugin.instance) await this.recheck(plugin, false);
      else this.apply(plugin, NEVER_VALID);
    }
    const stored = await this.#options.store.getPluginEntry(plugin.info.id);
    await this.save(plugin, stored, enabled);
    if (previous !== plugin.info.status) this.announce(plugin, previous);
  }

  /** Writes the plugin's status to the catalogue, keeping what the store already holds about it. */
  async save(
    plugin: RegisteredPlugin,
    stored: PluginCatalogueEntry | undefined,
    enabled?: boolean,
  ): Promise<void> {
    const now = this.#options.clock.now();
    await this.#options.store.savePluginEntry({
      id: plugin.info.id,
      enabled: enabled ?? stored?.enabled ?? true,
      lastStatus: plugin.info.status,
      lastReason: plugin.info.reason,
      firstSeenAt: stored?.firstSeenAt ?? now,
      lastSeenAt: now,
    });
  }

  /** Emits `plugin:status`; a throwing listener is reported, not thrown. */
  announce(plugin: RegisteredPlugin, previous: PluginStatus | null): void {
    const { id, status, reason } = plugin.info;
    try {
      this.#options.events.emit('plugin:status', { id, status, previous, reason });
    } catch (error) {
      this.#options.reportError(error);
    }
  }

  #readiness(plugin: RegisteredPlugin): Promise<ReadinessOutcome> {
    return checkReadiness(plugin, this.#options.readinessTimeoutMs);
  }
}
