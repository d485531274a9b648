import type { Server } from 'node:http';
import { bullmqRuntime, type RedisConnection } from '@plugboard/bullmq';
import { type BootReport, createHost, type Host, type PlugboardUser } from '@plugboard/core';
import { type PlugboardRouter, plugboardRouter } from '@plugboard/express';
import { postgresStore } from '@plugboard/postgres';
import express from 'express';

/** The one user of this example; a real application resolves the signed-in user from its own session. */
export const DEMO_USER: PlugboardUser = { id: 'demo', name: 'Demo' };

/** A running API process: the host, its HTTP server and the monitor page's URL. */
export interface RunningApi {
  readonly host: Host;
  readonly report: BootReport;
  readonly server: Server;
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * The API process: it discovers the plugins, validates executions and creates the tasks, which the workers run.
 * The `@plugboard/express` router serves the HTTP API, the event stream and the monitor page at `/`.
 */
export async function startApi(options: {
  readonly pluginsDir: string;
  readonly connection: RedisConnection;
  readonly queue: string;
  readonly port: number;
  /** A PostgreSQL connection string: the API keeps task history there instead of in memory. */
  readonly databaseUrl?: string | undefined;
}): Promise<RunningApi> {
  const host = createHost({
    env: false,
    argv: [],
    plugins: { dirs: [options.pluginsDir] },
    runtime: bullmqRuntime({ connection: options.connection, queue: options.queue }),
    ...(options.databaseUrl ? { store: postgresStore({ connectionString: options.databaseUrl }) } : {}),
  });
  const report = await host.start();
  const router: PlugboardRouter = plugboardRouter(host, {
    getUser: () => DEMO_USER,
    isAdmin: () => true,
    ui: true,
  });
  const app = express();
  app.use('/', router);
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(options.port, '127.0.0.1', (error?: Error) =>
      error ? reject(error) : resolve(listening),
    );
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    host,
    report,
    server,
    url: `http://127.0.0.1:${port}/`,
    stop: async () => {
      router.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await host.stop();
    },
  };
}
