import { fileURLToPath } from 'node:url';
import type { IsolationMode, PluginClass } from '@plugboard/core';
import { describeRuntimeContract, type RuntimeSetup } from '@plugboard/testing/contracts';

const contractModule = fileURLToPath(
  new URL('./fixtures/isolated/contract/contract-plugins.ts', import.meta.url),
);
/** The suite's plugins that have a twin in the contract module, which workers import. */
const IN_MODULE = new Set([
  'echo',
  'wait',
  'spy',
  'boom',
  'picky',
  'corrupt',
  'big',
  'wild',
  'logger',
  'flaky',
  'fatal',
  'hopeless',
]);

/**
 * The runtime contract on isolated tasks: the host registers the suite's own classes, and workers of the mode under
 * test import their twins from the contract module (`isolation.modules`), found by plugin id and task type. The
 * suite's plugins whose assertions read the test's own variables have no twin and run in-process.
 */
function isolatedRuntime(mode: IsolationMode) {
  return ({ plugins }: RuntimeSetup) => {
    const twins = plugins.filter((p: PluginClass) => IN_MODULE.has(p.definition.id));
    const modules = Object.fromEntries(twins.map((p) => [p.definition.id, contractModule]));
    return { options: { isolation: { mode, modules, graceMs: 200 } } };
  };
}

describeRuntimeContract('isolated: thread', isolatedRuntime('thread'));
describeRuntimeContract('isolated: process', isolatedRuntime('process'));
