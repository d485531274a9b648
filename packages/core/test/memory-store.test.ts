import { memoryStore } from '@plugboard/core';
import { describeTaskStoreContract } from '@plugboard/testing/contracts';

describeTaskStoreContract('memory', () => memoryStore(), {
  createWithRetention: (retention) => memoryStore(retention),
});
