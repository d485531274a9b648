import { sqliteStore } from '@plugboard/sqlite';
import { describeTaskStoreContract } from '@plugboard/testing/contracts';
import { afterAll } from 'vitest';
import { tempDatabaseFolder } from './temp-db.js';

const folder = tempDatabaseFolder();
afterAll(() => folder.remove());

describeTaskStoreContract('sqlite (file on disk)', () => sqliteStore({ path: folder.file() }), {
  createWithRetention: (retention) => sqliteStore({ path: folder.file(), ...retention }),
});
