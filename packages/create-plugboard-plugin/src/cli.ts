#!/usr/bin/env node
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { createPlugin } from './create-plugin.js';
import { ScaffoldError } from './scaffold-error.js';

/** Where a new user reads how to install the packages from a clone before their first release. */
const INSTALLING_DOCS = 'https://github.com/plugboard/plugboard/blob/main/docs/installing.md';

const USAGE = `Usage: npm create plugboard-plugin <folder> [-- --name <package> --id <plugin-id>]
       create-plugboard-plugin <folder> [--name <package>] [--id <plugin-id>]

Writes a new Plugboard plugin package into <folder>, which must be new or empty:
a plugin and its task in src/index.ts, a test with @plugboard/testing, TypeScript and vitest set up.

Options:
  --name <package>   the npm package name (default: the folder's name)
  --id <plugin-id>   the id hosts know the plugin by: 1 to 64 letters, digits, ".", "_" or "-",
                     starting with a letter or digit (default: the package name without its
                     scope and a "plugboard-plugin-" prefix)
  -h, --help         show this help

Exit codes: 0 created, 1 the folder cannot be used, 2 a wrong command line.
`;

function parse(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      options: {
        name: { type: 'string' },
        id: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new ScaffoldError(`${(error as Error).message}\n\n${USAGE}`, 2);
  }
}

function main(argv: readonly string[]): number {
  const { values, positionals } = parse(argv);
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    const problem =
      positionals.length === 0 ? 'Name the folder to create the plugin in.' : 'Name exactly one folder.';
    throw new ScaffoldError(`${problem}\n\n${USAGE}`, 2);
  }
  const created = createPlugin({
    target: positionals[0]!,
    packageName: values.name,
    id: values.id,
    cwd: process.cwd(),
  });
  const where = relative(process.cwd(), created.dir) || '.';
  const cd = /^[\w./@-]+$/.test(where) ? where : JSON.stringify(where);
  process.stdout.write(
    `Created the plugin \`${created.spec.id}\` (package ${created.spec.packageName}) in ${where}:\n` +
      created.files.map((file) => `  ${file}\n`).join('') +
      `\nNext:\n${where === '.' ? '' : `  cd ${cd}\n`}  npm install\n  npm test\n` +
      `\nIf npm cannot find @plugboard/core (it is not on the registry before its first release), install the\n` +
      `packed tarballs of a Plugboard clone first (npm run pack:local there): see ${INSTALLING_DOCS}\n`,
  );
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof ScaffoldError)) throw error;
  process.stderr.write(`create-plugboard-plugin: ${error.message}\n`);
  process.exitCode = error.exitCode;
}
