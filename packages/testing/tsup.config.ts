import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.config.js';

// `contracts` is its own entry: only who runs the contract suites loads vitest.
export default defineConfig({
  ...packageBuild,
  entry: ['src/index.ts', 'src/contracts.ts'],
  splitting: true,
  external: ['@plugboard/core', 'vitest'],
});
