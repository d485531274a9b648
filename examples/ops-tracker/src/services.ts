import type { PluginPoint } from '@plugboard/core';
import type { TrackerDatabase } from './tracker-database.ts';

/**
 * What the tracker's own plugins reach: they run in the tracker's process, so their tasks use its database and
 * the report plugins the running host found, rather than receiving them in their JSON input.
 */
export interface TrackerServices {
  readonly tracker: TrackerDatabase;
  /** The folder holding the databases, the summary and the default report files. */
  readonly dataDir: string;
  /** The operational implementations of a plugin point, from the running host. */
  implementationsOf<T>(point: PluginPoint<T>): T[];
}
