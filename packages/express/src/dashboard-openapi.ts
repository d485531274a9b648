// The OpenAPI description of the dashboard's routes (src/dashboard.ts), merged into the router's document.
import { PROBLEM_MEDIA_TYPE } from './problem.js';
import { TASK_STATES } from './request-query.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const ok = (description: string, schema: unknown) => ({
  description,
  content: { 'application/json': { schema } },
});
const problem = (description: string) => ({
  description,
  content: { [PROBLEM_MEDIA_TYPE]: { schema: ref('Problem') } },
});
const filterParams = [
  { name: 'user', in: 'query', schema: { type: 'string' }, description: 'Only tasks of this user id.' },
  { name: 'plugin', in: 'query', schema: { type: 'string' }, description: 'Only tasks of this plugin.' },
];
const taskId = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'The task id.',
  schema: { type: 'string' },
};
const UNAUTHENTICATED = problem('No user is signed in (`PLUGBOARD_UNAUTHENTICATED`).');

/** Component schemas of the dashboard's answers. */
export const DASHBOARD_SCHEMAS = {
  TaskCounts: {
    type: 'object',
    required: ['counts', 'total'],
    properties: {
      counts: {
        type: 'object',
        required: TASK_STATES,
        properties: Object.fromEntries(TASK_STATES.map((s) => [s, { type: 'integer', minimum: 0 }])),
      },
      total: { type: 'integer', minimum: 0 },
    },
  },
  BulkCancelResult: {
    type: 'object',
    required: ['cancelled', 'alreadyFinished'],
    properties: {
      cancelled: { type: 'array', items: ref('Task') },
      alreadyFinished: {
        type: 'integer',
        description: 'Tasks that finished on their own before they could be cancelled.',
      },
    },
  },
  RerunResult: { type: 'object', required: ['task'], properties: { task: ref('Task') } },
};

/** Paths of the dashboard's routes. */
export const DASHBOARD_PATHS = {
  '/tasks/counts': {
    get: {
      summary: 'How many tasks are in each state; users other than administrators count only their own',
      tags: ['Tasks'],
      parameters: filterParams,
      responses: {
        '200': ok('Counts per state.', ref('TaskCounts')),
        '400': problem('A query parameter is invalid.'),
        '401': UNAUTHENTICATED,
        '403': problem('A user other than an administrator asked for the tasks of another user.'),
      },
    },
  },
  '/tasks/cancel': {
    post: {
      summary: 'Cancel every queued or running task matching the filter (at most 500 at once)',
      tags: ['Tasks'],
      requestBody: {
        required: false,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              additionalProperties: false,
              properties: { user: { type: 'string' }, plugin: { type: 'string' } },
            },
          },
        },
      },
      responses: {
        '200': ok('The tasks cancelled, each recording who cancelled it.', ref('BulkCancelResult')),
        '400': problem('The body is invalid.'),
        '401': UNAUTHENTICATED,
        '403': problem('A user other than an administrator named another user.'),
      },
    },
  },
  '/tasks/{id}/rerun': {
    post: {
      summary: 'Run a task again with the same input, as the signed-in user',
      tags: ['Tasks'],
      parameters: [taskId],
      responses: {
        '202': ok('The new task, queued.', ref('RerunResult')),
        '401': UNAUTHENTICATED,
        '403': problem('The user may not use the task’s plugin.'),
        '404': problem('No task with this id is visible to the user.'),
        '409': problem('The plugin is not operational or is disabled.'),
      },
    },
  },
};
