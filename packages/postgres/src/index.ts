/**
 * A PostgreSQL store: task history, logs, schedules and the plugin catalogue in one database that several host
 * processes share.
 *
 * @module @plugboard/postgres
 */
export type { Migration } from './migrations.js';
export { migrations, SCHEMA_VERSION } from './migrations.js';
export type { PostgresStoreOptions } from './options.js';
export { PostgresTaskStore, postgresStore } from './postgres-store.js';
export type { StoreSharing } from './store-sharing.js';
