import { sqliteStore } from '@plugboard/sqlite';
import { afterAll } from 'vitest';
import { describeTaskStoreContract } from '../../core/test/store-contract.js';
import { tempDatabaseFolder } from './temp-db.js';

const folder = tempDatabaseFolder();
afterAll(() => folder.remove());

describeTaskStoreContract('sqlite (file on disk)', () => sqliteStore({ path: folder.file() }), {
  createWithRetention: (retention) => sqliteStore({ path: folder.file(), ...retention }),
});
