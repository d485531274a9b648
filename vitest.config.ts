import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const packages = ['core', 'testing', 'sqlite', 'postgres', 'http', 'express', 'cli', 'bullmq'];
const root = fileURLToPath(new URL('.', import.meta.url));

// Tests and examples use the packages' sources, so a change is tested without a build in between. Subpath entries
// come first: a package's own alias matches its name exactly, so `@plugboard/core/spi` is not read as a file in it.
const entries = [
  ['@plugboard/core/spi', `${root}packages/core/src/spi.ts`] as const,
  ['@plugboard/testing/contracts', `${root}packages/testing/src/contracts.ts`] as const,
  ...packages.map((name) => [`@plugboard/${name}`, `${root}packages/${name}/src/index.ts`] as const),
].filter(([, path]) => existsSync(path));
const alias = Object.fromEntries(entries);

// The HTTP suite (the files that start a server through packages/express/test/helpers.ts) runs once per server:
// Express in the default project, then Hono, Fastify and node:http, each with every assertion unchanged.
const httpSuite = [
  'authorization',
  'events',
  'hostile-input',
  'monitor-page',
  'openapi',
  'plugins',
  'properties',
  'tasks',
].map((name) => `packages/express/test/${name}.test.ts`);

// Files the default project leaves out, comma-separated (scripts/test-node-versions.mjs leaves out those that load
// the SQLite store's native binding, built for the Node.js that installed it).
const skippedFiles = (process.env.PLUGBOARD_TEST_EXCLUDE ?? '').split(',').filter(Boolean);

export default defineConfig({
  resolve: {
    alias: entries.map(([name, path]) => ({
      find: new RegExp(`^${name.replace(/[/.]/g, '\\$&')}$`),
      replacement: path,
    })),
  },
  test: {
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
    projects: [
      // Each project lists its own files: a project's `include` would add to one set here, not replace it.
      {
        extends: true as const,
        test: {
          name: 'default',
          include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['**/node_modules/**', ...skippedFiles],
        },
      },
      ...['hono', 'fastify', 'node'].map((adapter) => ({
        extends: true as const,
        test: { name: `http-${adapter}`, include: httpSuite, env: { PLUGBOARD_HTTP_ADAPTER: adapter } },
      })),
    ],
  },
});
