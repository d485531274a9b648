/**
 * Command-line hosts: one sub-command per plugin, flags and help from its argument schema, progress bars and
 * exit codes a shell can branch on.
 *
 * @module @plugboard/cli
 */
export type { CliOptions, CliStream, CliUserContext } from './cli-options.js';
export type { ExitCodeValue } from './exit-codes.js';
export { ExitCode } from './exit-codes.js';
export { runCli } from './run-cli.js';
export { runCliAndExit } from './run-cli-and-exit.js';
export type { FlagSpec, FlagValueType } from './schema-flags.js';
export { flagsFromSchema } from './schema-flags.js';
