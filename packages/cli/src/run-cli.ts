import { basename, extname } from 'node:path';
import type { Host, PlugboardUser } from '@plugboard/core';
import { invalidOption } from '@plugboard/core/spi';
import { type CliOptions, resolveCliOptions } from './cli-options.js';
import { CliSession } from './cli-session.js';
import { reportError } from './error-report.js';
import { ExitCode, type ExitCodeValue } from './exit-codes.js';
import { parseCommandLine } from './program.js';

function programName(argv: readonly string[], from: 'node' | 'user', name: string | undefined): string {
  if (name) return name;
  const script = from === 'node' ? argv[1] : undefined;
  return script ? basename(script, extname(script)) : 'plugboard';
}

/**
 * Runs a command line against a host: `<tool> <plugin-id> [--flag value ...]`, `plugins`, `tasks`,
 * `schedules`, `run <plugin-id>`, `--help` at every level. Starts the host when it has not been started (and
 * then stops it before resolving), and resolves the exit code: 0 every task succeeded, 1 a task failed, was
 * cancelled or timed out, 2 usage error, 3 the plugin is not operational.
 *
 * @example
 * const host = createHost({ plugins: { dirs: ['./plugins'] } });
 * process.exitCode = await runCli(host, process.argv, { name: 'media' });
 */
export async function runCli<User extends PlugboardUser = PlugboardUser>(
  host: Host<User>,
  argv: readonly string[],
  options?: CliOptions<User>,
): Promise<ExitCodeValue> {
  if (host === null || typeof host !== 'object' || typeof (host as Host<User>).execute !== 'function') {
    throw invalidOption('host', 'a host made by createHost()', host);
  }
  const resolved = resolveCliOptions(argv, options);
  const session = new CliSession(host, resolved, programName(argv, resolved.from, resolved.name));
  const { ownsHost } = session;
  if (ownsHost) {
    try {
      await host.start();
    } catch (error) {
      // A host that cannot start (store unreachable, unreadable properties file) runs nothing.
      reportError(session, error, { json: false });
      session.close();
      return ExitCode.TaskFailed;
    }
    if (session.interrupts.count > 0) {
      session.err(`${session.palette.red('error:')} Interrupted while the host started; nothing was run.`);
      await host.stop();
      session.close();
      return ExitCode.TaskFailed;
    }
  }
  try {
    return await parseCommandLine(session, argv.slice(resolved.from === 'node' ? 2 : 0), {
      pluginsOnly: false,
    });
  } finally {
    // A second Ctrl-C has already stopped it; stopping again does nothing.
    try {
      if (ownsHost) await host.stop();
    } finally {
      session.close();
    }
  }
}
