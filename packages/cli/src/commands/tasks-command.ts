import { describeDuration, type TaskRecord, type TaskState } from '@plugboard/core';
import type { Command } from 'commander';
import type { CliSession } from '../cli-session.js';
import { reportError } from '../error-report.js';
import { convertFlagText } from '../schema-flags.js';
import { formatTable, formatTime } from '../table.js';
import { publicRecord } from '../task-run.js';
import { paintState } from '../views/task-view.js';

interface TasksOptions {
  readonly plugin?: string;
  readonly state?: string[];
  readonly limit: string;
  readonly json?: boolean;
}

/** How long a task ran, or has been running; `null` while it is queued. */
function durationMs(record: TaskRecord, now: number): number | null {
  return record.startedAt === null ? null : (record.finishedAt ?? now) - record.startedAt;
}

/** Adds `tasks`: the most recent tasks in the host's store, newest first. */
export function addTasksCommand(program: Command, session: CliSession<any>): Command {
  return program
    .command('tasks')
    .description('List recent tasks, newest first')
    .option('--plugin <id>', 'Only tasks of this plugin')
    .option('--state <state>', 'Only tasks in this state (repeatable)', (v: string, p: string[] = []) => [
      ...p,
      v,
    ])
    .option('--limit <n>', 'How many tasks to show, 1 to 500', '20')
    .option('--json', 'Print the tasks as JSON')
    .action(async (options: TasksOptions) => {
      let page: Awaited<ReturnType<typeof session.host.tasks.list>>;
      try {
        page = await session.host.tasks.list({
          plugin: options.plugin,
          state: options.state as TaskState[] | undefined,
          // The host validates the limit, as it does for the HTTP API.
          limit: convertFlagText({ type: 'integer' }, options.limit) as number,
        });
      } catch (error) {
        session.exitCode = reportError(session, error, { json: options.json === true, command: 'tasks' });
        return;
      }
      const now = Date.now();
      const pluginName = (t: TaskRecord) => session.host.plugins.get(t.pluginId)?.name ?? t.pluginId;
      if (options.json) {
        const tasks = page.items.map((t) => ({
          ...publicRecord(t),
          pluginName: pluginName(t),
          durationMs: durationMs(t, now),
        }));
        session.out(JSON.stringify({ tasks }, null, 2));
        return;
      }
      if (page.items.length === 0) {
        session.out('No tasks.');
        return;
      }
      session.out(
        formatTable(
          ['id', 'plugin', 'state', 'progress', 'started', 'duration', 'user'],
          page.items.map((t) => {
            const duration = durationMs(t, now);
            return [
              t.id,
              pluginName(t),
              paintState(session.palette, t.state),
              `${Math.floor(t.progress)}%`,
              formatTime(t.startedAt ?? t.createdAt),
              duration === null ? '-' : describeDuration(duration),
              t.user.name ?? t.user.id,
            ];
          }),
        ),
      );
    });
}
