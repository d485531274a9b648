import { PLUGBOARD_VERSION, type PluginInfo } from '@plugboard/core';
import { DASHBOARD_PATHS, DASHBOARD_SCHEMAS } from './dashboard-openapi.js';
import { PROBLEM_MEDIA_TYPE } from './problem.js';
import { TASK_STATES } from './request-query.js';

/** An OpenAPI 3.1 document, as plain JSON. */
export type OpenApiDocument = Record<string, unknown> & {
  /** The OpenAPI version the document follows. */
  readonly openapi: '3.1.0';
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ 'application/json': { schema } });
const problem = (description: string) => ({
  description,
  content: { [PROBLEM_MEDIA_TYPE]: { schema: ref('Problem') } },
});
const ok = (description: string, schema: unknown) => ({ description, content: json(schema) });

const nullable = (type: string) => ({ type: [type, 'null'] });

const COMPONENT_SCHEMAS = {
  FieldError: {
    type: 'object',
    required: ['path', 'message'],
    properties: {
      path: { type: 'string', description: 'A JSON Pointer into the request body or query string.' },
      message: { type: 'string' },
    },
  },
  Problem: {
    type: 'object',
    description: 'An RFC 9457 problem document with the stable Plugboard error code.',
    required: ['type', 'title', 'status', 'detail', 'code'],
    properties: {
      type: { type: 'string' },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      code: { type: 'string', pattern: '^PLUGBOARD_[A-Z_]+$' },
      instance: { type: 'string' },
      errors: { type: 'array', items: ref('FieldError') },
      details: { type: 'object' },
    },
  },
  Plugin: {
    type: 'object',
    required: ['id', 'name', 'kind', 'status', 'reason', 'permissions', 'schemas'],
    properties: {
      id: { type: 'string' },
      name: { type: 'string' },
      description: nullable('string'),
      icon: nullable('string'),
      category: nullable('string'),
      sortGroup: nullable('string'),
      sortOrder: { type: 'number' },
      version: nullable('string'),
      permissions: { type: 'array', items: { type: 'string' } },
      kind: { enum: ['action', 'context', 'background', 'point'] },
      context: {
        type: ['object', 'null'],
        properties: {
          kind: { type: 'string' },
          idArgument: { type: 'string' },
          description: nullable('string'),
        },
      },
      schedule: { type: ['object', 'null'] },
      status: { enum: ['checking', 'operational', 'not-ready', 'invalid', 'failed', 'disabled'] },
      reason: nullable('string'),
      code: nullable('string'),
      schemas: {
        type: 'object',
        required: ['args'],
        properties: { args: { type: 'object', description: 'The JSON Schema of the arguments.' } },
      },
    },
  },
  PluginList: {
    type: 'object',
    required: ['items'],
    properties: { items: { type: 'array', items: ref('Plugin') } },
  },
  Task: {
    type: 'object',
    required: ['id', 'pluginId', 'taskType', 'user', 'state', 'progress', 'createdAt'],
    properties: {
      id: { type: 'string' },
      pluginId: { type: 'string' },
      taskType: { type: 'string' },
      input: {},
      user: {
        type: 'object',
        required: ['id'],
        properties: { id: { type: 'string' }, name: nullable('string') },
      },
      state: { enum: TASK_STATES },
      progress: { type: 'number', minimum: 0, maximum: 100 },
      progressMessage: nullable('string'),
      statusText: nullable('string'),
      createdAt: { type: 'integer' },
      startedAt: nullable('integer'),
      finishedAt: nullable('integer'),
      result: {},
      error: {
        type: ['object', 'null'],
        properties: {
          code: { type: 'string' },
          message: { type: 'string' },
          cancelledBy: { type: 'object', properties: { id: { type: 'string' }, name: nullable('string') } },
        },
      },
      attempt: { type: 'integer' },
      maxAttempts: { type: 'integer' },
      priority: { type: 'number' },
      timeoutMs: nullable('integer'),
      scheduleId: nullable('string'),
      contextId: nullable('string'),
      logCount: { type: 'integer' },
      parentId: { ...nullable('string'), description: 'The task that started this one with `ctx.spawn`.' },
      waitingReason: {
        ...nullable('string'),
        description: 'Why a queued task does not start yet, e.g. `waiting for a slot of plugin X`.',
      },
    },
  },
  TaskPage: {
    type: 'object',
    required: ['items', 'nextCursor'],
    properties: { items: { type: 'array', items: ref('Task') }, nextCursor: nullable('string') },
  },
  ExecuteResult: {
    type: 'object',
    required: ['tasks'],
    properties: { tasks: { type: 'array', items: ref('Task') } },
  },
  LogEntry: {
    type: 'object',
    required: ['seq', 'time', 'level', 'message'],
    properties: {
      seq: { type: 'integer' },
      time: { type: 'integer' },
      level: { enum: ['debug', 'info', 'warn', 'error', 'critical', 'always'] },
      message: { type: 'string' },
    },
  },
  LogPage: {
    type: 'object',
    required: ['items', 'nextAfter'],
    properties: {
      items: { type: 'array', items: ref('LogEntry') },
      nextAfter: { type: 'integer', description: 'Pass as `after` to read the lines written since.' },
    },
  },
  Schedule: {
    type: 'object',
    required: ['id', 'pluginId', 'delaySeconds', 'repeatSeconds', 'nextRunAt', 'runs'],
    properties: {
      id: { type: 'string' },
      pluginId: { type: 'string' },
      pluginName: { type: 'string' },
      cadence: { type: 'string', description: 'How often it runs, in words: `every day`, `once`.' },
      delaySeconds: { type: 'number' },
      repeatSeconds: { type: 'number' },
      cron: {
        type: ['string', 'null'],
        description: 'The cron expression; `null` for a delay and repeat schedule.',
      },
      timeZone: { type: ['string', 'null'], description: 'The IANA time zone of `cron`.' },
      nextRunAt: nullable('integer'),
      lastRunAt: nullable('integer'),
      lastTaskIds: { type: 'array', items: { type: 'string' } },
      lastState: { type: ['string', 'null'] },
      runs: { type: 'integer' },
      createdAt: { type: 'integer' },
      updatedAt: { type: 'integer' },
    },
  },
  ScheduleList: {
    type: 'object',
    required: ['items'],
    properties: { items: { type: 'array', items: ref('Schedule') } },
  },
  Me: {
    type: 'object',
    required: ['user', 'admin'],
    properties: {
      user: { type: 'object', properties: { id: { type: 'string' }, name: nullable('string') } },
      admin: { type: 'boolean' },
    },
  },
};

const idParam = (description: string) => ({
  name: 'id',
  in: 'path',
  required: true,
  description,
  schema: { type: 'string' },
});

const UNAUTHENTICATED = problem('No user is signed in (`PLUGBOARD_UNAUTHENTICATED`).');
const FORBIDDEN = problem('The user may not do this (`PLUGBOARD_FORBIDDEN`).');
const BAD_QUERY = problem('A query parameter is invalid; `errors` names every failing one.');

const IDEMPOTENCY_KEY = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Makes the request safe to repeat: a repeat with the same key returns the tasks of the first request (with `Idempotent-Replayed: true`) instead of creating new ones.',
  schema: { type: 'string', minLength: 1, maxLength: 255 },
};

function executeOperation(plugin: PluginInfo | undefined) {
  const argsSchema = plugin ? ref(`Args.${plugin.id}`) : { type: 'object' };
  const context = plugin?.context;
  const body = {
    type: 'object',
    additionalProperties: false,
    required: context ? ['context'] : [],
    properties: {
      args: argsSchema,
      context: {
        type: 'string',
        description: context
          ? `The id of the ${context.kind} to act on (${context.idArgument}).${context.description ? ` ${context.description}` : ''}`
          : 'The context object id, for context plugins.',
      },
    },
  };
  return {
    post: {
      operationId: plugin ? `execute.${plugin.id}` : 'executePlugin',
      summary: plugin ? `Run ${plugin.name}` : 'Run a plugin',
      description:
        plugin?.description ?? 'Validates the arguments against the plugin schema and queues its tasks.',
      tags: plugin ? ['Plugins', plugin.category ?? 'Other'] : ['Plugins'],
      parameters: [...(plugin ? [] : [idParam('The plugin id.')]), IDEMPOTENCY_KEY],
      requestBody: { required: false, content: json(body) },
      responses: {
        '202': ok('The tasks the execution created, queued.', ref('ExecuteResult')),
        '400': problem(
          'The arguments do not match the schema; `errors` lists every failing field under `/args`.',
        ),
        '401': UNAUTHENTICATED,
        '403': FORBIDDEN,
        '404': problem('No plugin has this id, or the context object was not found.'),
        '409': problem(
          'The plugin is not operational or is disabled, or a request with this `Idempotency-Key` is still creating its tasks.',
        ),
        '413': problem('The body is larger than the router accepts.'),
        '422': problem(
          'The `Idempotency-Key` was used for another request (`PLUGBOARD_IDEMPOTENCY_KEY_REUSED`).',
        ),
      },
    },
  };
}

/**
 * Builds the OpenAPI 3.1 description of the router from the same schemas the host validates with: each
 * visible plugin gets its own execute operation whose body carries the plugin's argument schema.
 */
export function buildOpenApiDocument(plugins: readonly PluginInfo[], serverUrl: string): OpenApiDocument {
  const argsSchemas = Object.fromEntries(plugins.map((p) => [`Args.${p.id}`, p.schemas.args]));
  const perPlugin = Object.fromEntries(
    plugins
      .filter((p) => p.kind === 'action' || p.kind === 'context')
      .map((p) => [`/plugins/${p.id}/execute`, executeOperation(p)]),
  );
  const adminAction = (summary: string, schema: unknown, status = '200') => ({
    post: {
      summary,
      tags: ['Administration'],
      parameters: [idParam('The plugin id.')],
      responses: {
        [status]: ok('Done.', schema),
        '401': UNAUTHENTICATED,
        '403': problem('Only administrators may do this.'),
        '404': problem('No plugin or schedule has this id.'),
        '409': problem('The schedule already has a run in progress.'),
      },
    },
  });
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Plugboard API',
      version: PLUGBOARD_VERSION,
      description:
        'Run plugins, watch and cancel their tasks. Errors are `application/problem+json` with a stable `code`.',
    },
    servers: [{ url: serverUrl }],
    tags: [
      { name: 'Plugins' },
      { name: 'Tasks' },
      { name: 'Administration' },
      { name: 'Events' },
      { name: 'Meta' },
    ],
    paths: {
      '/me': {
        get: {
          summary: 'The signed-in user and whether they administer',
          tags: ['Meta'],
          responses: { '200': ok('The user.', ref('Me')), '401': UNAUTHENTICATED },
        },
      },
      '/plugins': {
        get: {
          summary: 'The plugins the user may see, with status, reason and argument schema',
          tags: ['Plugins'],
          responses: {
            '200': ok('Sorted by category, group and order.', ref('PluginList')),
            '401': UNAUTHENTICATED,
          },
        },
      },
      '/plugins/{id}': {
        get: {
          summary: 'One plugin',
          tags: ['Plugins'],
          parameters: [idParam('The plugin id.')],
          responses: {
            '200': ok('The plugin.', ref('Plugin')),
            '401': UNAUTHENTICATED,
            '403': FORBIDDEN,
            '404': problem('No plugin has this id.'),
          },
        },
      },
      '/plugins/{id}/execute': executeOperation(undefined),
      ...perPlugin,
      '/plugins/{id}/disable': adminAction('Disable a plugin (administrators)', ref('Plugin')),
      '/plugins/{id}/enable': adminAction(
        'Enable a plugin and check its readiness again (administrators)',
        ref('Plugin'),
      ),
      '/tasks': {
        get: {
          summary: 'Tasks, newest first; users other than administrators see only their own',
          tags: ['Tasks'],
          parameters: [
            {
              name: 'user',
              in: 'query',
              schema: { type: 'string' },
              description: 'Only tasks of this user id.',
            },
            {
              name: 'plugin',
              in: 'query',
              schema: { type: 'string' },
              description: 'Only tasks of this plugin.',
            },
            {
              name: 'state',
              in: 'query',
              schema: { type: 'string' },
              description: `Comma-separated states: ${TASK_STATES.join(', ')}.`,
            },
            {
              name: 'limit',
              in: 'query',
              schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
            },
            {
              name: 'cursor',
              in: 'query',
              schema: { type: 'string' },
              description: '`nextCursor` of the previous page.',
            },
          ],
          responses: {
            '200': ok('One page.', ref('TaskPage')),
            '400': BAD_QUERY,
            '401': UNAUTHENTICATED,
            '403': problem('A user other than an administrator asked for the tasks of another user.'),
          },
        },
      },
      ...DASHBOARD_PATHS,
      '/tasks/{id}': {
        get: {
          summary: 'One task',
          tags: ['Tasks'],
          parameters: [idParam('The task id.')],
          responses: {
            '200': ok('The task.', ref('Task')),
            '401': UNAUTHENTICATED,
            '404': problem('No task with this id is visible to the user.'),
          },
        },
      },
      '/tasks/{id}/logs': {
        get: {
          summary: "A task's log lines",
          tags: ['Tasks'],
          parameters: [
            idParam('The task id.'),
            {
              name: 'after',
              in: 'query',
              schema: { type: 'integer', minimum: 0 },
              description: 'Only lines after this `seq`.',
            },
            {
              name: 'limit',
              in: 'query',
              schema: { type: 'integer', minimum: 1, maximum: 1000, default: 1000 },
            },
          ],
          responses: {
            '200': ok('The lines.', ref('LogPage')),
            '400': BAD_QUERY,
            '401': UNAUTHENTICATED,
            '404': problem('No task with this id is visible to the user.'),
          },
        },
      },
      '/tasks/{id}/children': {
        get: {
          summary: 'The child tasks a task started, oldest first, with their states',
          tags: ['Tasks'],
          parameters: [idParam('The task id.')],
          responses: {
            '200': ok('Its children.', {
              type: 'object',
              required: ['items'],
              properties: { items: { type: 'array', items: ref('Task') } },
            }),
            '401': UNAUTHENTICATED,
            '404': problem('No task with this id is visible to the user.'),
          },
        },
      },
      '/tasks/{id}/cancel': {
        post: {
          summary: 'Cancel a queued or running task',
          tags: ['Tasks'],
          parameters: [idParam('The task id.')],
          responses: {
            '200': ok('The task, cancelled.', ref('Task')),
            '202': ok('Cancellation was requested; the task has not stopped yet.', ref('Task')),
            '401': UNAUTHENTICATED,
            '404': problem('No task with this id is visible to the user.'),
            '409': problem('The task already finished.'),
          },
        },
      },
      '/schedules': {
        get: {
          summary: 'Background-task schedules of the plugins the user may see',
          tags: ['Administration'],
          responses: { '200': ok('The schedules.', ref('ScheduleList')), '401': UNAUTHENTICATED },
        },
      },
      '/schedules/{id}/trigger': adminAction(
        'Run a schedule now (administrators); its tasks run as the administrator who asked',
        ref('ExecuteResult'),
        '202',
      ),
      '/events': {
        get: {
          summary: 'Server-Sent Events of the plugins and tasks the user may see',
          description:
            'Events: `plugin:status`, `plugin:reloaded` (one per plugin a dev reload changed), `task:queued`, `task:started`, `task:progress`, `task:log`, `task:finished`, `schedule:fired` (administrators), `ready` and `resync`. Send `Last-Event-ID` to resume.',
          tags: ['Events'],
          parameters: [{ name: 'Last-Event-ID', in: 'header', schema: { type: 'string' } }],
          responses: {
            '200': {
              description: 'The stream.',
              content: { 'text/event-stream': { schema: { type: 'string' } } },
            },
            '401': UNAUTHENTICATED,
          },
        },
      },
      '/openapi.json': {
        get: {
          summary: 'This document',
          tags: ['Meta'],
          responses: { '200': ok('OpenAPI 3.1.', { type: 'object' }), '401': UNAUTHENTICATED },
        },
      },
    },
    components: { schemas: { ...COMPONENT_SCHEMAS, ...DASHBOARD_SCHEMAS, ...argsSchemas } },
  };
}
