import type { Host, PlugboardUser } from '@plugboard/core';
import { createHttpHandler, sendWebResponse, toWebRequest } from '@plugboard/http';
import express, {
  type Request as ExpressRequest,
  type Response as ExpressResponse,
  type Router,
} from 'express';
import type { PlugboardRouterOptions } from './router-options.js';

/** The Express router {@link plugboardRouter} returns, with a way to end its event streams. */
export interface PlugboardRouter extends Router {
  /** Ends every open event stream and stops listening to the host's events. */
  close(): void;
  /** How many event streams are open. */
  readonly eventStreams: number;
}

/**
 * The web request for an Express request. When the application parsed the body already (an `express.json()`
 * ahead of the router), the parsed value is sent on as JSON, since the stream it came from is spent.
 */
function webRequest(req: ExpressRequest, res: ExpressResponse): Request {
  const request = toWebRequest(req, res);
  if (!req.readableEnded || req.body === undefined || req.method === 'GET' || req.method === 'HEAD') {
    return request;
  }
  const headers = new Headers(request.headers);
  for (const name of ['content-length', 'content-encoding', 'transfer-encoding']) headers.delete(name);
  headers.set('content-type', 'application/json');
  const body = JSON.stringify(req.body);
  headers.set('content-length', String(Buffer.byteLength(body)));
  return new Request(request.url, { method: request.method, headers, body, signal: request.signal });
}

/**
 * Builds the Express 5 router of a Plugboard host: the HTTP API over plugins, tasks and schedules, the
 * Server-Sent Event stream, the OpenAPI document and, with `ui: true`, the monitor page. It mounts the
 * web-standard handler of `@plugboard/http`; requests no route answers go on to the application.
 *
 * @example
 * app.use('/plugboard', plugboardRouter(host, { getUser: (req) => req.session.user, ui: true }));
 */
export function plugboardRouter<User extends PlugboardUser = PlugboardUser>(
  host: Host<User>,
  options: PlugboardRouterOptions<User>,
): PlugboardRouter {
  const handler = createHttpHandler<User, ExpressRequest>(host, options);
  const router = express.Router();
  router.use((req, res, next) => {
    handler
      .route(webRequest(req, res), { basePath: req.baseUrl, native: req })
      .then((response) => (response === undefined ? next() : sendWebResponse(response, res)))
      .catch(next);
  });
  return Object.defineProperties(router, {
    close: { value: () => handler.close() },
    eventStreams: { get: () => handler.eventStreams },
  }) as PlugboardRouter;
}
