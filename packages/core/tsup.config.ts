import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.config.js';

// Two entries: the main one for plugin and host authors, `spi` for who writes a runtime or a store.
// Shared code goes to one chunk, so both entries use the same classes (`instanceof PlugboardError` holds across them).
export default defineConfig({ ...packageBuild, entry: ['src/index.ts', 'src/spi.ts'], splitting: true });
