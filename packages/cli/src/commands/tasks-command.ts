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

/** Why a queued task waits, or `null`: the reason is kept only while the task is queued. */
function waitingReason(record: TaskRecord): string | null {
  return record.state === 'queued' ? (record.waitingReason ?? null) : null;
}

/** A task's state for a person, with the reason it waits when its plugin's limits hold it back. */
function stateText(session: CliSession<any>, record: TaskRecord): string {
  const reason = waitingReason(record);
  const state = paintState(session.palette, record.state);
  return reason ? `${state} ${session.palette.dim(`(${reason})`)}` : state;
}

/** A record as `--json` prints it: without the error's stack, with the plugin's name and the duration. */
function jsonRecord(session: CliSession<any>, record: TaskRecord, now: number) {
  return {
    ...publicRecord(record),
    parentId: record.parentId ?? null,
    waitingReason: waitingReason(record),
    pluginName: session.host.plugins.get(record.pluginId)?.name ?? record.pluginId,
    durationMs: durationMs(record, now),
  };
}

/** `tasks <id>`: one task's facts, its parent and its children with their states. */
async function showTask(session: CliSession<any>, id: string, json: boolean): Promise<void> {
  let record: TaskRecord;
  let children: TaskRecord[];
  try {
    // Throws PLUGBOARD_UNKNOWN_TASK for an unknown id.
    children = await session.host.tasks.children(id);
    record = (await session.host.tasks.get(id))!;
  } catch (error) {
    session.exitCode = reportError(session, error, { json, command: 'tasks' });
    return;
  }
  const now = Date.now();
  if (json) {
    const task = jsonRecord(session, record, now);
    session.out(
      JSON.stringify({ task, children: children.map((child) => jsonRecord(session, child, now)) }, null, 2),
    );
    return;
  }
  const name = (t: TaskRecord) => session.host.plugins.get(t.pluginId)?.name ?? t.pluginId;
  const duration = durationMs(record, now);
  const facts: [string, string | null][] = [
    ['id', record.id],
    ['plugin', name(record)],
    ['state', paintState(session.palette, record.state)],
    ['waiting', waitingReason(record)],
    ['parent', record.parentId ?? null],
    ['progress', `${Math.floor(record.progress)}%`],
    ['queued', formatTime(record.createdAt)],
    ['started', record.startedAt === null ? null : formatTime(record.startedAt)],
    ['duration', duration === null ? null : describeDuration(duration)],
    ['user', record.user.name ?? record.user.id],
    ['error', record.error ? `${record.error.message} (${record.error.code})` : null],
  ];
  const shown = facts.filter((fact): fact is [string, string] => fact[1] !== null);
  const labelWidth = Math.max(...shown.map(([label]) => label.length)) + 1;
  for (const [label, value] of shown) session.out(`${`${label}:`.padEnd(labelWidth)} ${value}`);
  if (children.length === 0) return;
  session.out('');
  session.out(`children (${children.length}):`);
  session.out(
    formatTable(
      ['id', 'plugin', 'state', 'progress'],
      children.map((child) => [
        child.id,
        name(child),
        stateText(session, child),
        `${Math.floor(child.progress)}%`,
      ]),
    ),
  );
}

/** Adds `tasks`: the most recent tasks in the host's store, newest first, or one task with `tasks <id>`. */
export function addTasksCommand(program: Command, session: CliSession<any>): Command {
  return program
    .command('tasks')
    .description('List recent tasks, newest first, or show one task and its children')
    .argument('[id]', 'Show this task: its state, why it waits, its parent and its children')
    .option('--plugin <id>', 'Only tasks of this plugin')
    .option('--state <state>', 'Only tasks in this state (repeatable)', (v: string, p: string[] = []) => [
      ...p,
      v,
    ])
    .option('--limit <n>', 'How many tasks to show, 1 to 500', '20')
    .option('--json', 'Print the tasks as JSON')
    .action(async (id: string | undefined, options: TasksOptions) => {
      if (id !== undefined) {
        await showTask(session, id, options.json === true);
        return;
      }
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
        const tasks = page.items.map((t) => jsonRecord(session, t, now));
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
              stateText(session, t),
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
