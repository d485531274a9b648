#!/usr/bin/env node
// The `ops-tracker` command. The tracker is written in TypeScript and runs through jiti, so nothing needs
// building. Inside the Plugboard repository the @plugboard packages run from their sources too; a copy of this
// example uses the installed packages.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createJiti } from 'jiti';

const repository = fileURLToPath(new URL('../../../', import.meta.url));
const alias = {};
const manifest = `${repository}package.json`;
if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'plugboard-monorepo') {
  alias['@plugboard/core/spi'] = `${repository}packages/core/src/spi.ts`;
  for (const name of ['core', 'cli', 'sqlite']) {
    alias[`@plugboard/${name}`] = `${repository}packages/${name}/src/index.ts`;
  }
  // The host loads the TypeScript report packages with its own jiti instance, which reads the aliases from here.
  process.env.JITI_ALIAS = JSON.stringify({ ...JSON.parse(process.env.JITI_ALIAS || '{}'), ...alias });
}
const jiti = createJiti(import.meta.url, { alias });
const { main } = await jiti.import('../src/main.ts');
await main();
