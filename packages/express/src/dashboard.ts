// The monitor dashboard's operations, free of any HTTP framework: each takes the host, the signed-in audience and
// plain parsed values, and returns plain JSON or throws a coded error.
import {
  describeCadence,
  type Host,
  isPlugboardError,
  PlugboardError,
  type PlugboardUser,
  type ScheduleRecord,
  type TaskCounts,
  type TaskState,
} from '@plugboard/core';
import type { Audience } from './audience.js';
import { invalidRequest } from './problem.js';
import { type TaskView, taskView } from './public-views.js';
import { QueryReader } from './request-query.js';

/** The filters the task counts and bulk cancel take. */
export interface TaskFilter {
  readonly user?: string;
  readonly plugin?: string;
}

/** What `GET /tasks/counts` answers. */
export interface TaskCountsView {
  /** Tasks per state. */
  readonly counts: TaskCounts;
  /** Tasks in every state together. */
  readonly total: number;
}

/** A schedule as the dashboard shows it: the stored record with its plugin's name and its cadence in words. */
export interface ScheduleView extends ScheduleRecord {
  /** The name of the background-task plugin it runs. */
  readonly pluginName: string;
  /** How often it runs, in words: `every day`, `once`. */
  readonly cadence: string;
}

/** What `POST /tasks/cancel` answers. */
export interface BulkCancelView {
  /** The tasks cancelled, as their records read afterwards. */
  readonly cancelled: readonly TaskView[];
  /** Tasks that finished on their own before they could be cancelled. */
  readonly alreadyFinished: number;
}

const ACTIVE: readonly TaskState[] = ['queued', 'running'];
const BULK_LIMIT = 500;

/** Checks the query string of `GET /tasks/counts`. */
export function parseTaskFilter(query: unknown): TaskFilter {
  const reader = new QueryReader(query, ['user', 'plugin']);
  const user = reader.text('user');
  const plugin = reader.text('plugin');
  reader.check('Invalid task query');
  return { user, plugin };
}

/** Checks the body of `POST /tasks/cancel`: an object with optional `user` and `plugin` strings. */
export function parseBulkCancelBody(body: unknown): TaskFilter {
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw invalidRequest('Invalid cancel body', [{ path: '/', message: 'must be an object' }]);
  }
  const errors: { path: string; message: string }[] = [];
  const filter: Record<string, string> = {};
  for (const [key, value] of Object.entries(body)) {
    if (key !== 'user' && key !== 'plugin') {
      errors.push({
        path: `/${key.slice(0, 80)}`,
        message: 'is not a field of this body; use `user`, `plugin`',
      });
    } else if (typeof value !== 'string' || value.length === 0 || value.length > 200) {
      errors.push({ path: `/${key}`, message: 'must be a string of 1 to 200 characters' });
    } else filter[key] = value;
  }
  if (errors.length > 0) throw invalidRequest('Invalid cancel body', errors);
  return filter;
}

/** The user filter an audience may apply: its own id for a non-administrator, refused for another's. */
export function ownedUserFilter<User extends PlugboardUser>(
  audience: Audience<User>,
  user: string | undefined,
): string | undefined {
  if (user !== undefined && !audience.seesTasksOf(user)) {
    throw new PlugboardError(
      'PLUGBOARD_FORBIDDEN',
      `User \`${audience.user.id}\` may list only their own tasks.`,
      {
        details: { fields: [{ path: '/user', message: 'must be your own user id' }] },
      },
    );
  }
  return audience.isAdmin ? user : audience.user.id;
}

/** How many tasks the audience sees in each state, for the filter. */
export async function countTasks<User extends PlugboardUser>(
  host: Host<User>,
  audience: Audience<User>,
  filter: TaskFilter,
): Promise<TaskCountsView> {
  const counts = await host.tasks.counts({
    plugin: filter.plugin,
    user: ownedUserFilter(audience, filter.user),
  });
  return { counts, total: Object.values(counts).reduce((sum, n) => sum + n, 0) };
}

/**
 * Cancels every queued or running task the audience sees that matches the filter (at most 500 at once), recording
 * the audience's user as the one who cancelled them.
 */
export async function cancelTasks<User extends PlugboardUser>(
  host: Host<User>,
  audience: Audience<User>,
  filter: TaskFilter,
): Promise<BulkCancelView> {
  const user = ownedUserFilter(audience, filter.user);
  const page = await host.tasks.list({ plugin: filter.plugin, user, state: ACTIVE, limit: BULK_LIMIT });
  const cancelled: TaskView[] = [];
  let alreadyFinished = 0;
  for (const record of page.items) {
    try {
      cancelled.push(taskView(await host.tasks.cancel(record.id, { by: audience.user })));
    } catch (error) {
      if (isPlugboardError(error) && error.code === 'PLUGBOARD_TASK_FINISHED') alreadyFinished++;
      else throw error;
    }
  }
  return { cancelled, alreadyFinished };
}

/**
 * Runs a task the audience sees again with the same input, as the audience's user, who must be allowed to use its
 * plugin; answers the new task.
 */
export async function rerunTask<User extends PlugboardUser>(
  host: Host<User>,
  audience: Audience<User>,
  id: string,
): Promise<TaskView> {
  const record = await host.tasks.get(id);
  if (record === undefined || !audience.seesTasksOf(record.user.id)) {
    throw new PlugboardError('PLUGBOARD_UNKNOWN_TASK', `No task has id \`${id.slice(0, 80)}\`.`);
  }
  if (!audience.seesPlugin(host.plugins.get(record.pluginId))) {
    throw new PlugboardError(
      'PLUGBOARD_FORBIDDEN',
      `User \`${audience.user.id}\` may not use plugin \`${record.pluginId}\`, so cannot run its task again.`,
    );
  }
  return taskView(await host.tasks.rerun(record.id, { user: audience.user }));
}

/** The schedules of plugins the audience sees, with plugin names and cadence in words. */
export async function listSchedules<User extends PlugboardUser>(
  host: Host<User>,
  audience: Audience<User>,
): Promise<readonly ScheduleView[]> {
  const schedules = await host.schedules.list();
  return schedules.flatMap((schedule) => {
    const plugin = host.plugins.get(schedule.pluginId);
    if (!audience.seesPlugin(plugin)) return [];
    return [{ ...schedule, pluginName: plugin!.name, cadence: describeCadence(schedule.repeatSeconds) }];
  });
}
