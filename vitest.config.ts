import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const packages = ['core', 'testing', 'sqlite', 'express', 'cli', 'bullmq'];
const root = fileURLToPath(new URL('.', import.meta.url));

// Tests and examples use the packages' sources, so a change is tested without a build in between.
const alias = Object.fromEntries(
  packages
    .map((name) => [`@plugboard/${name}`, `${root}packages/${name}/src/index.ts`] as const)
    .filter(([, path]) => existsSync(path)),
);

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
    env: {
      // TypeScript plugins loaded through jiti resolve the same sources.
      JITI_ALIAS: JSON.stringify(alias),
    },
    typecheck: { enabled: false },
  },
});
