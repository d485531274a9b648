import type { Command } from 'commander';
import type { CliSession } from '../cli-session.js';
import { reportError } from '../error-report.js';
import { formatTable, formatTime } from '../table.js';
import { runTasks } from '../task-run.js';

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
      if (options.json) {
        session.out(JSON.stringify({ schedules: list }, null, 2));
        return;
      }
      if (list.length === 0) {
        session.out('No schedules.');
        return;
      }
      session.out(
        formatTable(
          ['id', 'plugin', 'next run', 'last run', 'last state', 'runs', 'repeat'],
          list.map((s) => [
            s.id,
            s.pluginId,
            formatTime(s.nextRunAt),
            formatTime(s.lastRunAt),
            s.lastState ?? '-',
            String(s.runs),
            s.cron
              ? `cron ${s.cron} (${s.timeZone ?? 'UTC'})`
              : s.repeatSeconds > 0
                ? `every ${s.repeatSeconds} s`
                : 'once',
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
      session.exitCode = await runTasks(session, () => session.host.schedules.trigger(id), {
        json: options.json === true,
        command: 'schedules trigger',
      });
    });
  return schedules;
}
