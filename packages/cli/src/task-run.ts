import type { ExecuteResult, TaskRecord } from '@plugboard/core';
import type { CliSession } from './cli-session.js';
import { type ErrorScope, reportError } from './error-report.js';
import { ExitCode, type ExitCodeValue, exitCodeForTasks } from './exit-codes.js';
import { TaskFollower } from './task-follower.js';
import { PlainTaskView } from './views/plain-task-view.js';
import { ProgressBarTaskView } from './views/progress-bar-task-view.js';
import { silentTaskView, type TaskView } from './views/task-view.js';

/** A task record as `--json` prints it: the stack of an error stays local, as over HTTP. */
export function publicRecord(record: TaskRecord): TaskRecord {
  if (!record.error?.stack) return record;
  const { stack: _stack, ...error } = record.error;
  return { ...record, error };
}

/**
 * Starts tasks (an execution or a schedule trigger), shows them until each is final and returns the exit
 * code: 0 when all succeeded, 1 otherwise, or the code of the error that stopped them from starting.
 */
export async function runTasks(
  session: CliSession<any>,
  start: () => Promise<ExecuteResult>,
  scope: ErrorScope,
): Promise<ExitCodeValue> {
  const { options, palette } = session;
  const follower = new TaskFollower(session.host, {
    interrupts: session.interrupts,
    stopHost: session.ownsHost ? () => session.host.stop({ timeoutMs: 0 }) : undefined,
  });
  let tasks: readonly TaskRecord[];
  try {
    ({ tasks } = await start());
  } catch (error) {
    follower.close();
    return reportError(session, error, scope);
  }
  if (tasks.length === 0) {
    follower.close();
    if (scope.json) session.out(JSON.stringify({ tasks: [] }, null, 2));
    else session.out('The plugin created no tasks.');
    return ExitCode.Success;
  }
  const names = (pluginId: string) => session.host.plugins.get(pluginId)?.name;
  const view: TaskView = scope.json
    ? silentTaskView
    : options.isTTY
      ? new ProgressBarTaskView(options.stdout, palette, tasks.length, names)
      : new PlainTaskView(options.stdout, palette, tasks.length, names);
  const records = await follower.follow(tasks, view);
  if (scope.json) session.out(JSON.stringify({ tasks: records.map(publicRecord) }, null, 2));
  return exitCodeForTasks(records);
}
