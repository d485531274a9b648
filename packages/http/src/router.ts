import { setTimeout as delay } from 'node:timers/promises';
import {
  type Host,
  PlugboardError,
  type PlugboardUser,
  type PluginInfo,
  type TaskRecord,
} from '@plugboard/core';
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
import { parseExecuteBody, pointIntoBody } from './execute-body.js';
import { MonitorPage } from './monitor-page.js';
import { buildOpenApiDocument } from './openapi.js';
import { type HttpHandlerOptions, resolveRouterOptions } from './options.js';
import { HttpProblemError, invalidRequest, problemResponse, toProblem } from './problem.js';
import { pluginView, taskView } from './public-views.js';
import { readJsonBody } from './request-body.js';
import { parseEmptyQuery, parseLogQuery, parseTaskListQuery } from './request-query.js';
import { parseQuery, type RawQuery, Reply, type RouteRequest, RouteTable } from './route-table.js';

/** Where an adapter mounted the handler and what its server handed it, for {@link HttpHandler.route}. */
export interface HttpMount<Native = Request> {
  /** The path the handler is mounted at for this request (`''` at the root), such as Express's `req.baseUrl`. */
  readonly basePath: string;
  /** Passed to `getUser` and `onError`: the framework's own request object. */
  readonly native: Native;
}

/**
 * The handler {@link createHttpHandler} returns: call it with a `Request`, get a `Response`. It also serves
 * adapters that need to fall through to the framework when no route matches, and ends its event streams.
 */
export interface HttpHandler<Native = Request> {
  /** Serves a request; a path that is no route of the API is answered 404. */
  (request: Request): Promise<Response>;
  /** Serves a request for an adapter; `undefined` when no route matches, so the framework carries on. */
  route(request: Request, mount: HttpMount<Native>): Promise<Response | undefined>;
  /** Ends every open event stream and stops listening to the host's events. */
  close(): void;
  /** How many event streams are open. */
  readonly eventStreams: number;
}

type Handler<User extends PlugboardUser, Native> = (
  req: RouteRequest<Native>,
  res: Reply,
  audience: Audience<User>,
) => unknown;

function describeHost(host: unknown): string {
  return host === null ? 'null' : typeof host;
}

/** The path and query of a request URL, without parsing the whole URL. */
function splitUrl(url: string): { path: string; search: string } {
  const scheme = url.indexOf('://');
  let start = scheme === -1 ? 0 : url.indexOf('/', scheme + 3);
  if (start === -1) start = url.length;
  const question = url.indexOf('?', start);
  const end = question === -1 ? url.length : question;
  const hash = url.indexOf('#', start);
  return {
    path: url.slice(start, hash !== -1 && hash < end ? hash : end) || '/',
    search: question === -1 ? '' : url.slice(question + 1, hash > question ? hash : url.length),
  };
}

/**
 * Builds the HTTP API of a Plugboard host as one web-standard handler: the JSON API over plugins, tasks and
 * schedules, the Server-Sent Event stream, the OpenAPI document and, with `ui: true`, the monitor page. Any
 * server that speaks `Request` and `Response` mounts it (Hono, Bun, Deno, Next.js route handlers); Node's
 * `http` server through {@link toNodeListener}.
 *
 * @example
 * const handler = createHttpHandler(host, { basePath: '/plugboard', getUser: (request) => userOf(request) });
 * Bun.serve({ fetch: handler });
 */
export function createHttpHandler<User extends PlugboardUser = PlugboardUser, Native = Request>(
  host: Host<User>,
  options: HttpHandlerOptions<User, Native>,
): HttpHandler<Native> {
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
  const settings = resolveRouterOptions(options, host.logger);
  const hub = new EventStreamHub(
    host,
    new EventLog(settings.eventBufferSize),
    settings.heartbeatMs,
    settings.eventBatchMs,
  );
  const page = settings.ui ? new MonitorPage() : undefined;
  const router = new RouteTable<Native>();
  const readJson = async (req: RouteRequest<Native>) => {
    const { isJson, body } = await readJsonBody(req.request, settings.bodyLimit);
    req.isJson = isJson;
    req.body = body;
  };

  // Each route resolves its user itself: a router-wide guard would answer 401 for the host's own routes
  // whenever the router is mounted at `/`.
  const route =
    (handler: Handler<User, Native>) =>
    async (req: RouteRequest<Native>, res: Reply): Promise<void> => {
      const user = await settings.getUser(req.native);
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
    router.get('/', (req, res) => res.send(page.page(req.path)));
    router.get('/assets/:name', (req, res) => {
      const asset = page.asset(req.params.name!);
      if (asset) res.send(asset);
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
      if (req.isJson === false) {
        throw invalidRequest('Invalid execute body', [
          { path: '/', message: 'must be sent as application/json' },
        ]);
      }
      const body = parseExecuteBody(req.body);
      try {
        const idempotencyKey = req.request.headers.get('idempotency-key') ?? undefined;
        const { tasks, replayed } = await host.execute(plugin.id, body.args, {
          user: audience.user,
          context: body.context,
          ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
        });
        if (replayed) res.set('Idempotent-Replayed', 'true');
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

  router.get(
    '/tasks/:id/children',
    route(async (req, res, audience) => {
      parseEmptyQuery(req.query);
      const record = await visibleTask(req.params.id as string, audience);
      res.json({ items: (await host.tasks.children(record.id)).map(taskView) });
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
      res.send(hub.open(req.request.headers.get('Last-Event-ID'), req.request.signal, audience));
    }),
  );

  router.get(
    '/openapi.json',
    route((req, res, audience) => {
      parseEmptyQuery(req.query);
      const plugins = host.plugins.list().filter((p) => audience.seesPlugin(p));
      res.json(buildOpenApiDocument(plugins, req.basePath || '/'));
    }),
  );

  const serve = async (request: Request, mount: HttpMount<Native>): Promise<Response | undefined> => {
    const { path, search } = splitUrl(request.url);
    const base = mount.basePath;
    if (
      base !== '' &&
      (path.length < base.length || path.slice(0, base.length).toLowerCase() !== base.toLowerCase())
    ) {
      return undefined;
    }
    const rest = path.slice(base.length);
    if (rest !== '' && !rest.startsWith('/')) return undefined;
    let query: RawQuery | undefined;
    const reply = new Reply();
    try {
      const matched = router.match(request.method, rest || '/');
      if (matched === undefined) return undefined;
      const req: RouteRequest<Native> = {
        request,
        native: mount.native,
        path,
        basePath: base,
        params: matched.params,
        get query() {
          query ??= parseQuery(search);
          return query;
        },
      };
      for (const step of matched.steps) {
        await step(req, reply);
        if (reply.response) break;
      }
    } catch (error) {
      const problem = toProblem(error, path);
      if (problem.status >= 500) settings.onError(error, mount.native);
      return problemResponse(problem);
    }
    return reply.response;
  };

  const notFound = (request: Request): Response =>
    problemResponse(
      toProblem(
        new HttpProblemError(
          'PLUGBOARD_NO_ROUTE',
          `No route of the Plugboard API answers ${request.method} ${splitUrl(request.url).path.slice(0, 200)}; the API is served under \`${settings.basePath || '/'}\`.`,
        ),
        splitUrl(request.url).path,
      ),
    );

  const handler = async (request: Request): Promise<Response> =>
    (await serve(request, { basePath: settings.basePath, native: request as Native })) ?? notFound(request);

  return Object.defineProperties(handler, {
    route: { value: serve },
    close: { value: () => hub.close() },
    eventStreams: { get: () => hub.connections },
  }) as HttpHandler<Native>;
}
