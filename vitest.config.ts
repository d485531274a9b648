import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const packages = ['core', 'testing', 'sqlite', 'postgres', 'express', 'cli', 'bullmq'];
const root = fileURLToPath(new URL('.', import.meta.url));

// Tests and examples use the packages' sources, so a change is tested without a build in between. Subpath entries
// come first: a package's own alias matches its name exactly, so `@plugboard/core/spi` is not read as a file in it.
const entries = [
  ['@plugboard/core/spi', `${root}packages/core/src/spi.ts`] as const,
  ['@plugboard/testing/contracts', `${root}packages/testing/src/contracts.ts`] as const,
  ...packages.map((name) => [`@plugboard/${name}`, `${root}packages/${name}/src/index.ts`] as const),
].filter(([, path]) => existsSync(path));
const alias = Object.fromEntries(entries);

export default defineConfig({
  resolve: {
    alias: entries.map(([name, path]) => ({
      find: new RegExp(`^${name.replace(/[/.]/g, '\\$&')}$`),
      replacement: path,
    })),
  },
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
