import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.config.js';

// A command, not a library: one executable module and no declarations.
export default defineConfig({ ...packageBuild, entry: ['src/cli.ts'], dts: false });
