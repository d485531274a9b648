#!/usr/bin/env node
// Starts the media server: `node start.mjs` (or `npm run demo` at the repository root).
// The server and its plugins are TypeScript, loaded through jiti, so nothing needs building. Inside the
// Plugboard repository the @plugboard packages resolve to their sources; in a copy of this example they
// resolve to the installed packages.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createJiti } from 'jiti';

const root = fileURLToPath(new URL('../../', import.meta.url));
const alias = Object.fromEntries(
  [
    ['@plugboard/core/spi', `${root}packages/core/src/spi.ts`],
    ...['core', 'sqlite', 'http', 'express'].map((name) => [
      `@plugboard/${name}`,
      `${root}packages/${name}/src/index.ts`,
    ]),
  ].filter(([, source]) => existsSync(source)),
);
// The host loads ./plugins through its own jiti instance, which reads its aliases from JITI_ALIAS: plugins and
// the server then share one copy of every module.
process.env.JITI_ALIAS = JSON.stringify(alias);
const jiti = createJiti(import.meta.url, { alias });
await jiti.import('./src/main.ts');
