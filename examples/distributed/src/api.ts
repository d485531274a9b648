import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { bullmqRuntime, type RedisConnection } from '@plugboard/bullmq';
import { createHost, type Host, isPlugboardError } from '@plugboard/core';
import { plugins } from '../plugins/thumbnails.js';

/** A running API process: the host and its HTTP server. */
export interface RunningApi {
  readonly host: Host;
  readonly server: Server;
  readonly port: number;
  stop(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? JSON.parse(text) : {};
}

/**
 * The API process: it validates executions and creates the tasks, the workers run them. A small JSON API:
 * `POST /plugins/:id/execute`, `GET /tasks`, `GET /tasks/:id`, `GET /tasks/:id/logs`, `POST /tasks/:id/cancel`
 * and `GET /events` (server-sent task events).
 */
export async function startApi(options: {
  connection: RedisConnection;
  queue: string;
  port: number;
}): Promise<RunningApi> {
  const host = createHost({
    env: false,
    argv: [],
    plugins: { classes: plugins },
    runtime: bullmqRuntime({ connection: options.connection, queue: options.queue }),
  });
  await host.start();
  const server = createServer((req, res) => {
    handle(host, req, res).catch((error) => {
      if (isPlugboardError(error)) send(res, error.status, error.toJSON());
      else send(res, 500, { code: 'INTERNAL', message: String(error) });
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    host,
    server,
    port,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await host.stop();
    },
  };
}

async function handle(host: Host, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const parts = url.pathname.split('/').filter(Boolean);
  if (req.method === 'POST' && parts[0] === 'plugins' && parts[2] === 'execute' && parts.length === 3) {
    const result = await host.execute(parts[1]!, await readJson(req), { user: { id: 'demo' } });
    return send(res, 202, result);
  }
  if (req.method === 'GET' && url.pathname === '/tasks') return send(res, 200, await host.tasks.list());
  if (req.method === 'GET' && parts[0] === 'tasks' && parts.length === 2) {
    const task = await host.tasks.get(parts[1]!);
    return task ? send(res, 200, task) : send(res, 404, { code: 'PLUGBOARD_UNKNOWN_TASK' });
  }
  if (req.method === 'GET' && parts[0] === 'tasks' && parts[2] === 'logs') {
    return send(res, 200, await host.tasks.logs(parts[1]!));
  }
  if (req.method === 'POST' && parts[0] === 'tasks' && parts[2] === 'cancel') {
    return send(res, 200, await host.tasks.cancel(parts[1]!));
  }
  if (req.method === 'GET' && url.pathname === '/events') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    const names = ['task:queued', 'task:started', 'task:progress', 'task:finished'] as const;
    const listeners = names.map((name) => {
      const listener = (payload: unknown) =>
        res.write(`event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`);
      host.events.on(name, listener as never);
      return [name, listener] as const;
    });
    req.on('close', () => {
      for (const [name, listener] of listeners) host.events.off(name, listener as never);
    });
    return;
  }
  send(res, 404, { code: 'NOT_FOUND', message: `No route for ${req.method} ${url.pathname}.` });
}
