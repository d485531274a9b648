import { inProcessRuntime } from '@plugboard/core';
import { describeRuntimeContract } from './runtime-contract.js';

describeRuntimeContract('in-process', ({ concurrency }) => ({
  options: { runtime: inProcessRuntime({ concurrency }) },
}));
