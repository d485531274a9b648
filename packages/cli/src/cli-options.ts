import type { PlugboardUser } from '@plugboard/core';
import { booleanOption, functionOption, invalidOption as invalid, oneOfOption } from '@plugboard/core/spi';

/** A stream the CLI writes to: `process.stdout`, `process.stderr` or any writable with `write(text)`. */
export interface CliStream {
  /** Writes the text as given, line endings included. */
  write(text: string): unknown;
  /** True when the stream is a terminal; progress bars need one. */
  readonly isTTY?: boolean;
  /** The terminal width, when known. */
  readonly columns?: number;
}

/** What a user resolver is given to decide who runs the command. */
export interface CliUserContext {
  /** The environment the CLI reads (`options.env`). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Options of {@link runCli}. */
export interface CliOptions<User extends PlugboardUser = PlugboardUser> {
  /**
   * The program name shown in usage and help.
   * @default the file name of `argv[1]`
   */
  readonly name?: string;
  /** One line shown at the top of the help. */
  readonly description?: string;
  /** The version `--version` prints; without it there is no `--version` flag. */
  readonly version?: string;
  /**
   * Who executes plugins; its permissions are checked by the host's `authorize` hook.
   * @default the host's anonymous user (no permissions)
   * @example user: ({ env }) => ({ id: `cli:${env.USER}`, permissions: ['media:write'] })
   */
  readonly user?: (context: CliUserContext) => User | Promise<User>;
  /**
   * Where results, tables, help, progress and task logs go.
   * @default process.stdout
   */
  readonly stdout?: CliStream;
  /**
   * Where errors go.
   * @default process.stderr
   */
  readonly stderr?: CliStream;
  /**
   * The environment read for `NO_COLOR`, `FORCE_COLOR` and the schemas' `env` flag fallbacks.
   * @default process.env
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Draw progress bars (true) or print plain lines (false).
   * @default stdout.isTTY
   */
  readonly isTTY?: boolean;
  /**
   * Whether `argv` starts with the node executable and the script (`process.argv`) or holds only the
   * user's arguments.
   * @default 'node'
   */
  readonly from?: 'node' | 'user';
  /** Aborting it cancels the running tasks, as Ctrl-C does. */
  readonly signal?: AbortSignal;
  /**
   * Cancel the running tasks on SIGINT and SIGTERM (Ctrl-C); a second signal stops waiting for them. Signals less
   * than half a second apart count as one (npm and npx pass the terminal's Ctrl-C on a second time).
   * @default true
   */
  readonly handleSignals?: boolean;
}

/** {@link CliOptions} checked, with defaults applied. */
export interface ResolvedCliOptions<User extends PlugboardUser = PlugboardUser> {
  readonly name: string | undefined;
  readonly description: string | undefined;
  readonly version: string | undefined;
  readonly user: ((context: CliUserContext) => User | Promise<User>) | undefined;
  readonly stdout: CliStream;
  readonly stderr: CliStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly isTTY: boolean;
  readonly from: 'node' | 'user';
  readonly signal: AbortSignal | undefined;
  readonly handleSignals: boolean;
}

function isStream(value: unknown): value is CliStream {
  return value !== null && typeof value === 'object' && typeof (value as CliStream).write === 'function';
}

function optionalString(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw invalid(name, 'a non-empty string', value);
  return value;
}

/** Checks `argv` and the options of {@link runCli}; throws `PLUGBOARD_INVALID_OPTION` on the first problem. */
export function resolveCliOptions<User extends PlugboardUser>(
  argv: unknown,
  options: CliOptions<User> | undefined,
): ResolvedCliOptions<User> {
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) {
    const bad = Array.isArray(argv) ? argv.find((a) => typeof a !== 'string') : argv;
    throw invalid('argv', 'an array of strings', bad);
  }
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object') throw invalid('options', 'an object', options);
  functionOption('user', options.user, undefined, 'a function ({ env }) => user');
  if (options.stdout !== undefined && !isStream(options.stdout)) {
    throw invalid('stdout', 'a writable stream', options.stdout);
  }
  if (options.stderr !== undefined && !isStream(options.stderr)) {
    throw invalid('stderr', 'a writable stream', options.stderr);
  }
  if (options.env !== undefined && (options.env === null || typeof options.env !== 'object')) {
    throw invalid('env', 'an object of environment variables', options.env);
  }
  for (const key of ['isTTY', 'handleSignals'] as const) booleanOption(key, options[key], false);
  oneOfOption('from', options.from, ['node', 'user'], 'node', '"node" or "user"');
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw invalid('signal', 'an AbortSignal', options.signal);
  }
  const stdout = options.stdout ?? process.stdout;
  return {
    name: optionalString('name', options.name),
    description: optionalString('description', options.description),
    version: optionalString('version', options.version),
    user: options.user,
    stdout,
    stderr: options.stderr ?? process.stderr,
    env: options.env ?? process.env,
    isTTY: options.isTTY ?? stdout.isTTY === true,
    from: options.from ?? 'node',
    signal: options.signal,
    handleSignals: options.handleSignals ?? true,
  };
}
