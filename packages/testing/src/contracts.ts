/**
 * The contract suites a task store or a task runtime proves itself with, one call each, from a vitest test file:
 * `describeTaskStoreContract('my-store', () => myStore())` or `describeRuntimeContract('my-runtime', setup)`. They
 * are the suites core's memory store and in-process runtime, the SQLite store and the BullMQ runtime run.
 *
 * @module @plugboard/testing/contracts
 */
export type { RuntimeFactory, RuntimeSetup, RuntimeUnderTest } from './contracts/runtime-contract.js';
export { describeRuntimeContract } from './contracts/runtime-contract.js';
export type { ContractRetention, TaskStoreContractOptions } from './contracts/store-contract.js';
export { describeTaskStoreContract, taskRecord } from './contracts/store-contract.js';
