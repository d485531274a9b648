import type { CliSession } from './cli-session.js';
import { type ExitCodeValue, errorCodeOf, exitCodeForError } from './exit-codes.js';
import { type FlagSpec, flagName as flagNameOf } from './schema-flags.js';

/** Where an error happened, so its fields can be named as the flags a person typed. */
export interface ErrorScope {
  /** Print `{ "error": ... }` as JSON on stderr instead of text. */
  readonly json: boolean;
  /** The command line that failed, e.g. `greet`, for the usage hint. */
  readonly command?: string;
  /** The flags of the plugin, to name `/times` as `--times`. */
  readonly flags?: readonly FlagSpec[];
  /** The context id argument of a context plugin, e.g. `bookId`. */
  readonly contextArgument?: string;
}

interface FieldError {
  readonly path: string;
  readonly message: string;
}

function fieldsOf(error: unknown): FieldError[] {
  const fields = (error as { details?: { fields?: unknown } } | null)?.details?.fields;
  if (!Array.isArray(fields)) return [];
  return fields.filter((f): f is FieldError => typeof f?.path === 'string' && typeof f?.message === 'string');
}

function flagFor(path: string, scope: ErrorScope): string {
  const property = path.split('/')[1] ?? '';
  if (scope.contextArgument && property === scope.contextArgument) {
    return `<${scope.contextArgument}> (or --${flagNameOf(scope.contextArgument)})`;
  }
  const spec = scope.flags?.find((f) => f.property === property);
  // Built-in commands name their flags after the query fields (`/limit` is `--limit`).
  if (!spec) return scope.flags || !property ? path : `--${flagNameOf(property)}`;
  return `--${spec.flag}${path.length > property.length + 1 ? ` (${path})` : ''}`;
}

function choicesHint(path: string, scope: ErrorScope): string {
  const property = path.split('/')[1] ?? '';
  const spec = scope.flags?.find((f) => f.property === property);
  return spec?.choices ? ` (choices: ${spec.choices.join(', ')})` : '';
}

/**
 * Reports an error the host raised: the core's own message (the one the HTTP API gives), then each failing
 * field named as its flag. Returns the exit code it stands for.
 */
export function reportError(session: CliSession<any>, error: unknown, scope: ErrorScope): ExitCodeValue {
  const exitCode = exitCodeForError(error);
  const code = errorCodeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  if (scope.json) {
    const details = (error as { details?: unknown } | null)?.details ?? {};
    // stdout stays for results: a script reads the error apart, and the exit code says which one to read.
    session.err(
      JSON.stringify({ error: { code: code ?? 'PLUGBOARD_CLI_ERROR', message, details } }, null, 2),
    );
    return exitCode;
  }
  const { palette } = session;
  session.err(`${palette.red('error:')} ${message}${code ? palette.dim(` (${code})`) : ''}`);
  for (const field of fieldsOf(error)) {
    session.err(`  ${flagFor(field.path, scope)}: ${field.message}${choicesHint(field.path, scope)}`);
  }
  if (exitCode === 2 && scope.command) {
    session.err(`Run \`${session.name} ${scope.command} --help\` for usage.`);
  }
  return exitCode;
}
