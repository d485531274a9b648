import { ExitCode, runCli } from '@plugboard/cli';
import { isPlugboardError } from '@plugboard/core';
import { readConfig } from './config.ts';
import { createTracker, PACKAGE_ROOT } from './host.ts';

function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (!stream.writable) resolve();
    else stream.write('', () => resolve());
  });
}

/** Swallows a signal: runCli handles Ctrl-C while it runs, and after it the exit code must stand. */
function ignoreSignal(): void {}

/** The `ops-tracker` command: runs the command line, closes the tracker's database and exits with the code. */
export async function main(): Promise<never> {
  // Like runCliAndExit: a Ctrl-C (or the copy npm forwards) between runCli's end and the exit cannot end the
  // process by the signal instead of with the CLI's exit code.
  process.on('SIGINT', ignoreSignal);
  process.on('SIGTERM', ignoreSignal);
  let code: number;
  try {
    const tracker = createTracker(readConfig(process.env, PACKAGE_ROOT));
    try {
      code = await runCli(tracker.host, process.argv, {
        name: 'ops-tracker',
        description: 'Tracks operational events and credentials, and runs the installed reports over them.',
        version: '1.0.0',
        user: ({ env }) => ({ id: env.OPS_TRACKER_OPERATOR || env.USER || 'operator' }),
      });
    } finally {
      tracker.database.close();
    }
  } catch (error) {
    const coded = isPlugboardError(error) ? ` (${error.code})` : '';
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}${coded}\n`);
    code =
      isPlugboardError(error) && error.code === 'PLUGBOARD_INVALID_OPTION'
        ? ExitCode.Usage
        : ExitCode.TaskFailed;
  }
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  // Like runCliAndExit: a timer or socket left open cannot keep the command alive.
  process.exit(code);
}
