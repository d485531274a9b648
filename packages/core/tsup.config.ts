import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.config.js';

// The main entry for plugin and host authors, `spi` for who writes a runtime or a store, and the isolated runtime's
// worker bootstrap, a file of its own that worker threads and child processes start. Shared code goes to one chunk,
// so the entries use the same classes (`instanceof PlugboardError` holds across them).
export default defineConfig({
  ...packageBuild,
  entry: {
    index: 'src/index.ts',
    spi: 'src/spi.ts',
    'isolated-worker': 'src/runtime/isolated/worker-main.ts',
  },
  splitting: true,
});
