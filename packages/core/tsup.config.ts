import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.config.js';

export default defineConfig({
  ...packageBuild,
  // The isolated runtime's worker bootstrap is a file of its own: worker threads and child processes start it.
  entry: { index: 'src/index.ts', 'isolated-worker': 'src/runtime/isolated/worker-main.ts' },
});
