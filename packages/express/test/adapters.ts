import http from 'node:http';
import { serve } from '@hono/node-server';
import type { Host, PlugboardUser } from '@plugboard/core';
import type { PlugboardRouterOptions } from '@plugboard/express';
import { createHttpHandler, type HttpHandler, toNodeListener } from '@plugboard/http';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { Hono } from 'hono';

/** The servers the HTTP suite runs on; `PLUGBOARD_HTTP_ADAPTER` picks one (Express when unset). */
export const ADAPTERS = ['express', 'hono', 'fastify', 'node'] as const;
export type Adapter = (typeof ADAPTERS)[number];

function adapterFromEnv(): Adapter {
  const name = process.env.PLUGBOARD_HTTP_ADAPTER ?? 'express';
  if (!(ADAPTERS as readonly string[]).includes(name)) {
    throw new Error(`PLUGBOARD_HTTP_ADAPTER must be one of ${ADAPTERS.join(', ')}, got ${name}`);
  }
  return name as Adapter;
}

/** The adapter this run of the suite uses. */
export const ADAPTER = adapterFromEnv();

// The suite's `getUser` callbacks read headers with Express's `req.get(name)`; on the other servers they get the
// same reading over the web request, so every test file runs unchanged.
function withExpressStyleUser(options: PlugboardRouterOptions): Parameters<typeof createHttpHandler>[1] {
  const getUser = options.getUser as unknown as (req: {
    get(name: string): string | undefined;
  }) => PlugboardUser;
  return {
    ...(options as object),
    basePath: '/plugboard',
    getUser: (request: Request) => getUser({ get: (name) => request.headers.get(name) ?? undefined }),
    onError: options.onError as never,
  } as Parameters<typeof createHttpHandler>[1];
}

async function listening(server: http.Server): Promise<http.Server> {
  if (!server.listening) {
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
  }
  return server;
}

/** Serves the handler at `/plugboard` (and `GET /health`) on Hono, Fastify or `node:http`, on 127.0.0.1. */
export async function serveOn(
  adapter: Exclude<Adapter, 'express'>,
  host: Host,
  options: PlugboardRouterOptions,
): Promise<{ router: HttpHandler; server: http.Server }> {
  const handler = createHttpHandler(host, withExpressStyleUser(options));
  if (adapter === 'node') {
    const listener = toNodeListener(handler);
    const server = http.createServer((req, res) => {
      if (req.url === '/health') res.end('ok');
      else listener(req, res);
    });
    return { router: handler, server: await listening(server.listen(0, '127.0.0.1')) };
  }
  if (adapter === 'hono') {
    const app = new Hono();
    app.get('/health', (c) => c.text('ok'));
    app.all('/plugboard', (c) => handler(c.req.raw));
    app.all('/plugboard/*', (c) => handler(c.req.raw));
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as http.Server;
    return { router: handler, server: await listening(server) };
  }
  const listener = toNodeListener(handler);
  const forward = (request: FastifyRequest, reply: FastifyReply) => {
    reply.hijack();
    listener(request.raw, reply.raw);
  };
  const app = Fastify({
    // A path Fastify cannot decode, or with a segment longer than its limit, is the handler's to answer.
    frameworkErrors: (error, request: FastifyRequest, reply: FastifyReply) => {
      if (/^\/plugboard(?:[/?]|$)/.test(request.raw.url ?? '')) forward(request, reply);
      else reply.code(400).send(error.message);
    },
  });
  app.get('/health', async () => 'ok');
  await app.register(async (scope) => {
    // The handler reads the body itself: Fastify leaves every body unread under the mount.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    scope.all('/plugboard', forward);
    scope.all('/plugboard/*', forward);
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { router: handler, server: app.server };
}
