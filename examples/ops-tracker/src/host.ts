import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHost, type Host } from '@plugboard/core';
import { sqliteStore } from '@plugboard/sqlite';
import { recordCommands } from './commands.ts';
import type { TrackerConfig } from './config.ts';
import { reportCommands } from './reports.ts';
import type { TrackerServices } from './services.ts';
import { summaryPlugins } from './summary.ts';
import { TrackerDatabase } from './tracker-database.ts';

/** The tracker package's folder: its package.json lists the installed report packages. */
export const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A tracker host and the database its own plugins use. */
export interface Tracker {
  readonly host: Host;
  readonly database: TrackerDatabase;
}

/**
 * Builds the tracker's host: its own commands and background summary as plugin classes, the report plugins
 * from the installed packages its package.json lists, and task history in SQLite beside its data.
 */
export function createTracker(config: TrackerConfig): Tracker {
  const database = new TrackerDatabase(config.dataDir);
  let host: Host | undefined;
  const services: TrackerServices = {
    tracker: database,
    dataDir: config.dataDir,
    implementationsOf: (point) => host?.points.get(point) ?? [],
  };
  host = createHost({
    plugins: {
      // Report plugins are packages: every dependency whose package.json has a `plugboard` field.
      packages: true,
      classes: [
        ...recordCommands(services),
        ...reportCommands(services),
        ...summaryPlugins(services, config.summary),
      ],
    },
    cwd: PACKAGE_ROOT,
    store: sqliteStore({ path: join(config.dataDir, 'plugboard.db') }),
    // The CLI owns the command line: plugins' start-up flags are not read from it.
    argv: [],
    shutdownTimeoutMs: 5000,
  });
  return { host, database };
}
