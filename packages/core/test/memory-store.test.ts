import { memoryStore } from '@plugboard/core';
import { describeTaskStoreContract } from './store-contract.js';

describeTaskStoreContract('memory', () => memoryStore(), {
  createWithRetention: (retention) => memoryStore(retention),
});
