import type { PlugboardErrorCode } from '../errors.js';
import type { DiscoveryNote, PluginSource } from '../plugins/discovery.js';
import type { BootReportFailure } from '../plugins/plugin-loading.js';
import type { PluginReload } from '../plugins/plugin-reloader.js';
import type { PluginInfo, PluginStatus } from '../plugins/registry.js';
import type { PluginIsolation } from '../runtime/isolated/isolation-options.js';

/** One plugin's line in the boot report. */
export interface BootReportPlugin {
  /** The plugin's id. */
  readonly id: string;
  /** The state it ended the start in. */
  readonly status: PluginStatus;
  /** Why it is not operational, in a sentence a person can act on; `null` when it is. */
  readonly reason: string | null;
  /** The error code behind `reason`, or `null`. */
  readonly code: PlugboardErrorCode | null;
  /** The file, package or class it came from. */
  readonly source: PluginSource;
  /** Time spent on each lifecycle step. */
  readonly timings: PluginInfo['timings'];
  /** Where its tasks run and the file access it declared and was granted. */
  readonly isolation?: PluginIsolation;
}

/** What `host.start()` returns: every plugin's state and timings, the failures and the notes. */
export interface BootReport {
  /** When the start began, in milliseconds since the epoch (the host's clock). */
  readonly startedAt: number;
  /** How long the start took, in milliseconds. */
  readonly durationMs: number;
  /** Every plugin found, in one named state each. */
  readonly plugins: readonly BootReportPlugin[];
  /** Sources that could not be loaded at all. */
  readonly failures: readonly BootReportFailure[];
  /** What discovery skipped on purpose (files that are not modules, packages not installed...). */
  readonly notes: readonly DiscoveryNote[];
  /** What crash recovery found in the store. */
  readonly recovery: {
    /** Tasks a previous process left running, now recorded `interrupted`. */
    readonly interrupted: number;
    /** Tasks a previous process left running whose type is retry-safe, queued again for another attempt. */
    readonly requeued: number;
    /** Tasks a previous process left queued, handed to the runtime again. */
    readonly resumed: number;
    /** Unfinished children of a parent that died with the previous process or was stopped: cancelled. */
    readonly orphaned?: number;
  };
  /** The store's name, such as `memory` or `sqlite`. */
  readonly store: string;
  /** The task runtime's name, such as `in-process`. */
  readonly runtime: string;
  /**
   * The plugin modules reloaded since the start (by the folder watcher or `host.plugins.reload()`), oldest first;
   * the last 100 are kept.
   */
  readonly reloads: readonly PluginReload[];
}

export type { BootReportFailure };
