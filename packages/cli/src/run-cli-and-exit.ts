import type { Host, PlugboardUser } from '@plugboard/core';
import type { CliOptions } from './cli-options.js';
import { runCli } from './run-cli.js';

function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (!stream.writable) resolve();
    else stream.write('', () => resolve());
  });
}

/** Swallows a signal: from the CLI's end to the exit, Ctrl-C must not replace the exit code with its own. */
function ignoreSignal(): void {}

/**
 * The body of a bin script: runs {@link runCli} on `process.argv`, waits for stdout and stderr to drain and
 * exits the process with the exit code, so timers or sockets a plugin left open cannot keep it alive. Until it
 * exits, SIGINT and SIGTERM do not end the process (unless `handleSignals` is false): it always exits with one of
 * the CLI's codes.
 *
 * @example
 * #!/usr/bin/env node
 * import { createHost } from '@plugboard/core';
 * import { runCliAndExit } from '@plugboard/cli';
 * await runCliAndExit(createHost({ plugins: { dirs: ['./plugins'] } }), { name: 'media' });
 */
export async function runCliAndExit<User extends PlugboardUser = PlugboardUser>(
  host: Host<User>,
  options?: CliOptions<User>,
): Promise<never> {
  if (options?.handleSignals !== false) {
    process.on('SIGINT', ignoreSignal);
    process.on('SIGTERM', ignoreSignal);
  }
  let code: number;
  try {
    code = await runCli(host, process.argv, options);
  } catch (error) {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    code = 1;
  }
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}
