export type { Migration } from './migrations.js';
export { migrations, SCHEMA_VERSION } from './migrations.js';
export type { SqliteStoreOptions, SqliteSynchronous } from './options.js';
export { SqliteTaskStore, sqliteStore } from './sqlite-store.js';
