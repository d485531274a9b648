import { defineConfig, type Options } from 'tsup';

/** The one build every published package shares: ESM with declarations, Node 20.19+. */
export const packageBuild: Options = {
  entry: ['src/index.ts'],
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  dts: true,
  sourcemap: true,
  clean: true,
  splitting: false,
  treeshake: true,
  tsconfig: '../../tsconfig.base.json',
};

export default defineConfig(packageBuild);
