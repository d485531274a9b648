import { describeCadence } from '@plugboard/core';
import type { Command } from 'commander';
import type { CliSession } from '../cli-session.js';
import { reportError } from '../error-report.js';
import { formatTable, formatTime } from '../table.js';
import { runTasks } from '../task-run.js';
import { paintState } from '../views/task-view.js';

/** Adds `schedules` (the background-task schedules) and `schedules trigger <id>` (run one now). */
export function addSchedulesCommand(program: Command, session: CliSession<any>): Command {
  const schedules = program
    .command('schedules')
    .description('List the background-task schedules; `schedules trigger <id>` runs one now')
    .option('--json', 'Print the schedules as JSON')
    .action(async (options: { json?: boolean }) => {
      let list: Awaited<ReturnType<typeof session.host.schedules.list>>;
      try {
        list = await session.host.schedules.list();
      } catch (error) {
        session.exitCode = reportError(session, error, { json: options.json === true });
        return;
      }
      const schedules = list.map((s) => ({
        ...s,
        pluginName: session.host.plugins.get(s.pluginId)?.name ?? s.pluginId,
        cadence: s.cron ? `cron ${s.cron} (${s.timeZone ?? 'UTC'})` : describeCadence(s.repeatSeconds),
      }));
      if (options.json) {
        session.out(JSON.stringify({ schedules }, null, 2));
        return;
      }
      if (list.length === 0) {
        session.out('No schedules.');
        return;
      }
      session.out(
        formatTable(
          ['id', 'plugin', 'runs', 'next run', 'last run', 'last state', 'times run'],
          schedules.map((s) => [
            s.id,
            s.pluginName,
            s.cadence,
            formatTime(s.nextRunAt),
            formatTime(s.lastRunAt),
            s.lastState ? paintState(session.palette, s.lastState) : '-',
            String(s.runs),
          ]),
        ),
      );
    });
  schedules
    .command('trigger')
    .description('Run a schedule now, out of cadence, and follow its tasks')
    .argument('<id>', 'The schedule id (the background plugin id)')
    .option('--json', 'Print the final task records as JSON instead of progress')
    .action(async (id: string, options: { json?: boolean }) => {
      // Recorded as the CLI's user when the host gave one, as the system user otherwise.
      const user = await session.user();
      session.exitCode = await runTasks(session, () => session.host.schedules.trigger(id, { user }), {
        json: options.json === true,
        command: 'schedules trigger',
      });
    });
  return schedules;
}
