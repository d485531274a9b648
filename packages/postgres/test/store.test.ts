import { postgresStore } from '@plugboard/postgres';
import { describeTaskStoreContract } from '@plugboard/testing/contracts';
import { afterAll } from 'vitest';
import { startPostgresServer } from '../../../test/postgres-server.js';

const server = await startPostgresServer();
afterAll(() => server.remove());

// Each store gets a schema of its own in the one cluster, so every test starts from an empty store.
let schemas = 0;
const schema = () => `contract_${++schemas}`;

describeTaskStoreContract(
  'postgres',
  () => postgresStore({ connectionString: server.url, schema: schema() }),
  {
    createWithRetention: (retention) =>
      postgresStore({ connectionString: server.url, schema: schema(), ...retention }),
  },
);
