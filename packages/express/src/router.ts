import { setTimeout as delay } from 'node:timers/promises';
import {
  type Host,
  PlugboardError,
  type PlugboardUser,
  type PluginInfo,
  type TaskRecord,
} from '@plugboard/core';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { Audience } from './audience.js';
import {
  cancelTasks,
  countTasks,
  listSchedules,
  parseBulkCancelBody,
  parseTaskFilter,
  rerunTask,
} from './dashboard.js';
import { EventLog } from './event-log.js';
import { EventStreamHub } from './event-stream.js';
import { fromRequestError, parseExecuteBody, pointIntoBody } from './execute-body.js';
import { MonitorPage } from './monitor-page.js';
import { buildOpenApiDocument } from './openapi.js';
import { type PlugboardRouterOptions, resolveRouterOptions } from './options.js';
import { invalidRequest, sendProblem, toProblem } from './problem.js';
import { pluginView, taskView } from './public-views.js';
import { parseEmptyQuery, parseLogQuery, parseTaskListQuery } from './request-query.js';

/** The Express router {@link plugboardRouter} returns, with a way to end its event streams. */
export interface PlugboardRouter extends Router {
  /** Ends every open event stream and stops listening to the host's events. */
  close(): void;
  /** How many event streams are open. */
  readonly eventStreams: number;
}

type Handler<User extends PlugboardUser> = (req: Request, res: Response, audience: Audience<User>) => unknown;

const JSON_TYPES = ['application/json', 'application/*+json'];

function describeHost(host: unknown): string {
  return host === null ? 'null' : typeof host;
}

/**
 * Builds the Express 5 router of a Plugboard host: the HTTP API over plugins, tasks and schedules, the
 * Server-Sent Event stream, the OpenAPI document and, with `ui: true`, the monitor page.
 *
 * @example
 * app.use('/plugboard', plugboardRouter(host, { getUser: (req) => req.session.user, ui: true }));
 */
export function plugboardRouter<User extends PlugboardUser = PlugboardUser>(
  host: Host<User>,
  options: PlugboardRouterOptions<User>,
): PlugboardRouter {
  if (
    host === null ||
    typeof host !== 'object' ||
    typeof host.execute !== 'function' ||
    typeof host.plugins?.list !== 'function'
  ) {
    throw new PlugboardError(
      'PLUGBOARD_INVALID_OPTION',
      `Expected \`host\` to be a Plugboard host from createHost(), got ${describeHost(host)}.`,
    );
  }
  const settings = resolveRouterOptions(options);
  const hub = new EventStreamHub(host, new EventLog(settings.eventBufferSize), settings.heartbeatMs);
  const page = settings.ui ? new MonitorPage() : undefined;
  const router = express.Router();
  const readJson = express.json({ limit: settings.bodyLimit, type: JSON_TYPES, strict: false });

  // Each route resolves its user itself: a router-wide guard would answer 401 for the host's own routes
  // whenever the router is mounted at `/`.
  const route =
    (handler: Handler<User>) =>
    async (req: Request, res: Response): Promise<void> => {
      const user = await settings.getUser(req);
      if (user === undefined || user === null) {
        throw new PlugboardError(
          'PLUGBOARD_UNAUTHENTICATED',
          'Sign in first: the request carries no user the host recognises.',
        );
      }
      await handler(req, res, new Audience(user, settings));
    };

  const visiblePlugin = (id: string, audience: Audience<User>): PluginInfo => {
    const plugin = host.plugins.get(id);
    if (plugin === undefined) {
      throw new PlugboardError('PLUGBOARD_UNKNOWN_PLUGIN', `No plugin has id \`${id.slice(0, 80)}\`.`);
    }
    if (!audience.seesPlugin(plugin)) {
      throw new PlugboardError(
        'PLUGBOARD_FORBIDDEN',
        `User \`${audience.user.id}\` may not use plugin \`${id}\`: it needs the permission(s) ${plugin.permissions.map((p) => `\`${p}\``).join(', ')}.`,
      );
    }
    return plugin;
  };

  // Another user's task is answered exactly like a missing one, so task ids cannot be probed.
  const visibleTask = async (id: string, audience: Audience<User>): Promise<TaskRecord> => {
    const record = await host.tasks.get(id);
    if (record === undefined || !audience.seesTasksOf(record.user.id)) {
      throw new PlugboardError('PLUGBOARD_UNKNOWN_TASK', `No task has id \`${id.slice(0, 80)}\`.`);
    }
    return record;
  };

  const requireAdmin = (audience: Audience<User>, what: string): void => {
    if (!audience.isAdmin) {
      throw new PlugboardError(
        'PLUGBOARD_FORBIDDEN',
        `Only administrators may ${what}; user \`${audience.user.id}\` is not one.`,
      );
    }
  };

  if (page) {
    router.get('/', (req, res) => page.page(req, res));
    router.get('/assets/:name', (req, res, next) => {
      if (!page.asset(req.params.name, res)) next();
    });
  }

  router.get(
    '/me',
    route((req, res, { user, isAdmin }) => {
      parseEmptyQuery(req.query);
      res.json({ user: { id: user.id, name: user.name ?? null }, admin: isAdmin });
    }),
  );

  router.get(
    '/plugins',
    route((req, res, audience) => {
      parseEmptyQuery(req.query);
      res.json({
        items: host.plugins
          .list()
          .filter((p) => audience.seesPlugin(p))
          .map((p) => pluginView(p, audience.isAdmin)),
      });
    }),
  );

  router.get(
    '/plugins/:id',
    route((req, res, audience) => {
      parseEmptyQuery(req.query);
      res.json(pluginView(visiblePlugin(req.params.id as string, audience), audience.isAdmin));
    }),
  );

  router.post(
    '/plugins/:id/execute',
    readJson,
    route(async (req, res, audience) => {
      parseEmptyQuery(req.query);
      const plugin = visiblePlugin(req.params.id as string, audience);
      if (req.is(JSON_TYPES) === false) {
        throw invalidRequest('Invalid execute body', [
          { path: '/', message: 'must be sent as application/json' },
        ]);
      }
      const body = parseExecuteBody(req.body);
      try {
        const { tasks } = await host.execute(plugin.id, body.args, {
          user: audience.user,
          context: body.context,
        });
        res.status(202).json({ tasks: tasks.map(taskView) });
      } catch (error) {
        throw pointIntoBody(error);
      }
    }),
  );

  for (const action of ['disable', 'enable'] as const) {
    router.post(
      `/plugins/:id/${action}`,
      route(async (req, res, audience) => {
        parseEmptyQuery(req.query);
        requireAdmin(audience, `${action} plugins`);
        res.json(pluginView(await host.plugins[action](req.params.id as string)));
      }),
    );
  }

  router.get(
    '/tasks',
    route(async (req, res, audience) => {
      const query = parseTaskListQuery(req.query);
      if (query.user !== undefined && !audience.seesTasksOf(query.user)) {
        throw new PlugboardError(
          'PLUGBOARD_FORBIDDEN',
          `User \`${audience.user.id}\` may list only their own tasks.`,
          { details: { fields: [{ path: '/user', message: 'must be your own user id' }] } },
        );
      }
      const user = audience.isAdmin ? query.user : audience.user.id;
      const page = await host.tasks.list({ ...query, user });
      res.json({ items: page.items.map(taskView), nextCursor: page.nextCursor });
    }),
  );

  router.get(
    '/tasks/counts',
    route(async (req, res, audience) => {
      res.json(await countTasks(host, audience, parseTaskFilter(req.query)));
    }),
  );

  router.post(
    '/tasks/cancel',
    readJson,
    route(async (req, res, audience) => {
      parseEmptyQuery(req.query);
      res.json(await cancelTasks(host, audience, parseBulkCancelBody(req.body)));
    }),
  );

  router.get(
    '/tasks/:id',
    route(async (req, res, audience) => {
      parseEmptyQuery(req.query);
      res.json(taskView(await visibleTask(req.params.id as string, audience)));
    }),
  );

  router.get(
    '/tasks/:id/logs',
    route(async (req, res, audience) => {
      const query = parseLogQuery(req.query);
      const record = await visibleTask(req.params.id as string, audience);
      const items = await host.tasks.logs(record.id, query);
      res.json({ items, nextAfter: items.at(-1)?.seq ?? query.after ?? 0 });
    }),
  );

  router.post(
    '/tasks/:id/cancel',
    route(async (req, res, audience) => {
      parseEmptyQuery(req.query);
      const record = await visibleTask(req.params.id as string, audience);
      const cancelling = host.tasks.cancel(record.id, { by: audience.user });
      // A task that ignores its abort signal must not hold the request open: answer 202 after the wait.
      cancelling.catch(() => {});
      const timer = new AbortController();
      const outcome = await Promise.race([
        cancelling,
        delay(settings.cancelWaitMs, undefined, { signal: timer.signal }).catch(() => undefined),
      ]);
      timer.abort();
      if (outcome) res.status(200).json(taskView(outcome));
      else res.status(202).json(taskView((await host.tasks.get(record.id)) ?? record));
    }),
  );

  router.post(
    '/tasks/:id/rerun',
    route(async (req, res, audience) => {
      parseEmptyQuery(req.query);
      res.status(202).json({ task: await rerunTask(host, audience, req.params.id as string) });
    }),
  );

  router.get(
    '/schedules',
    route(async (req, res, audience) => {
      parseEmptyQuery(req.query);
      res.json({ items: await listSchedules(host, audience) });
    }),
  );

  router.post(
    '/schedules/:id/trigger',
    route(async (req, res, audience) => {
      parseEmptyQuery(req.query);
      requireAdmin(audience, 'trigger schedules');
      const { tasks } = await host.schedules.trigger(req.params.id as string, { user: audience.user });
      res.status(202).json({ tasks: tasks.map(taskView) });
    }),
  );

  router.get(
    '/events',
    route((req, res, audience) => {
      parseEmptyQuery(req.query);
      hub.open(req, res, audience);
    }),
  );

  router.get(
    '/openapi.json',
    route((req, res, audience) => {
      parseEmptyQuery(req.query);
      const plugins = host.plugins.list().filter((p) => audience.seesPlugin(p));
      res.json(buildOpenApiDocument(plugins, req.baseUrl || '/'));
    }),
  );

  router.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const problem = toProblem(
      fromRequestError(error, settings.bodyLimit, req.path),
      req.originalUrl.split('?')[0],
    );
    if (problem.status >= 500) settings.onError(error, req);
    sendProblem(res, problem);
  });

  return Object.defineProperties(router, {
    close: { value: () => hub.close() },
    eventStreams: { get: () => hub.connections },
  }) as PlugboardRouter;
}
