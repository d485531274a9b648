/**
 * A persistent SQLite store: task history, logs, schedules and the plugin catalogue survive restarts.
 *
 * @module @plugboard/sqlite
 */
export type { Migration } from './migrations.js';
export { migrations, SCHEMA_VERSION } from './migrations.js';
export type { SqliteStoreOptions, SqliteSynchronous } from './options.js';
export { SqliteTaskStore, sqliteStore } from './sqlite-store.js';
