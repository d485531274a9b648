import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BootReport, createHost, type Host } from '@plugboard/core';
import { type PlugboardRouter, plugboardRouter } from '@plugboard/express';
import { sqliteStore } from '@plugboard/sqlite';
import express from 'express';
import { MediaLibrary } from './library.ts';
import { attachMediaLibrary } from './plugin-classes.ts';
import { type MediaServerSettings, resolveSettings } from './settings.ts';
import { DEMO_USERS, isAdministrator, SIGN_IN_PARAMETER, signInFromQuery, userOf } from './users.ts';

/** The example's folder: its `plugins/` folder is found from here. */
export const EXAMPLE_DIR = fileURLToPath(new URL('..', import.meta.url));

/** Where the router and its monitor page are mounted. */
export const MOUNT_PATH = '/plugboard';

/** Options of {@link startMediaServer}. */
export interface MediaServerOptions {
  /** The folder for the task store, the catalogue and the default library. */
  readonly dataDir: string;
  /**
   * The address to listen on.
   * @default '127.0.0.1'
   */
  readonly hostname?: string;
  /**
   * The port; 0 picks a free one.
   * @default 4870
   */
  readonly port?: number;
  /**
   * When the port is taken, listen on a free one instead of failing.
   * @default false
   */
  readonly fallbackToFreePort?: boolean;
  /**
   * Where the host's App Properties and plugin properties (`PLUGBOARD_<PLUGIN>__<PROPERTY>`) are read from.
   * @default process.env
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * The plugin folders.
   * @default ['<example>/plugins']
   */
  readonly pluginDirs?: readonly string[];
}

/** A running media server. */
export interface RunningMediaServer {
  readonly host: Host;
  readonly library: MediaLibrary;
  readonly settings: MediaServerSettings;
  readonly report: BootReport;
  /** The server's base address, e.g. `http://127.0.0.1:4870`. */
  readonly url: string;
  /** The monitor page's address. */
  readonly monitorUrl: string;
  /** Stops accepting requests, ends event streams, stops the host (tasks get `timeoutMs` to finish). */
  stop(options?: { timeoutMs?: number }): Promise<void>;
}

function listen(app: express.Express, hostname: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, hostname);
    server.once('listening', () => resolve(server));
    server.once('error', reject);
  });
}

function escapeHtml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The landing page: who to sign in as, and the ids the plugins' context fields accept. */
function homePage(library: MediaLibrary): string {
  const users = Object.values(DEMO_USERS).map((user) => {
    const role = isAdministrator(user) ? 'administrator' : 'viewer';
    const href = `${MOUNT_PATH}/?${SIGN_IN_PARAMETER}=${encodeURIComponent(user.id)}`;
    return `<li><a href="${href}">Open the monitor page as ${escapeHtml(user.name ?? user.id)}</a> (${role})</li>`;
  });
  const books = library
    .listBooks()
    .map(
      (book) =>
        `<li><code>${escapeHtml(book.id)}</code>: ${escapeHtml(book.title)}, ${escapeHtml(book.author)}</li>`,
    );
  const folders = library.listFolders().map((id) => `<li><code>${escapeHtml(id)}</code></li>`);
  return `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><title>Media server</title></head>
  <body>
    <h1>Media server</h1>
    <p>A media and book library whose maintenance jobs are Plugboard plugins.</p>
    <ul>${users.join('')}</ul>
    <h2>Books (<code>bookId</code>)</h2>
    <ul>${books.join('')}</ul>
    <h2>Media folders (<code>folder</code>; a file is its folder plus its name)</h2>
    <ul>${folders.join('')}</ul>
  </body>
</html>
`;
}

/**
 * Starts the media server: opens the library (creating the sample library on first start), starts a Plugboard
 * host on the `plugins/` folder with SQLite history, and serves the API and monitor page under `/plugboard`.
 */
export async function startMediaServer(options: MediaServerOptions): Promise<RunningMediaServer> {
  const env = options.env ?? process.env;
  const settings = resolveSettings(options.dataDir, env);
  const library = await MediaLibrary.open(settings);
  const detach = attachMediaLibrary(library);
  const host = createHost({
    plugins: { dirs: [...(options.pluginDirs ?? [join(EXAMPLE_DIR, 'plugins')])] },
    cwd: EXAMPLE_DIR,
    store: sqliteStore({ path: settings.storeFile }),
    env,
    argv: [],
    // Each plugin task runs in a worker thread: a plugin that spins or leaks fails its own task (timed out, or
    // PLUGBOARD_TASK_RESOURCE_LIMIT past 256 MB) while the pages and the other plugins keep working.
    isolation: { mode: 'thread', memoryLimitMb: 256 },
  });
  let report: BootReport;
  try {
    report = await host.start();
  } catch (error) {
    detach();
    library.close();
    throw error;
  }

  const router: PlugboardRouter = plugboardRouter(host, {
    getUser: userOf,
    isAdmin: isAdministrator,
    ui: true,
  });
  const app = express();
  app.disable('x-powered-by');
  app.use(signInFromQuery);
  app.get('/', (_req, res) => {
    res.type('html').send(homePage(library));
  });
  app.use(MOUNT_PATH, router);

  const hostname = options.hostname ?? '127.0.0.1';
  let server: Server;
  try {
    server = await listen(app, hostname, options.port ?? 4870).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE' && options.fallbackToFreePort) return listen(app, hostname, 0);
      throw error;
    });
  } catch (error) {
    router.close();
    await host.stop();
    detach();
    library.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const url = `http://${hostname}:${port}`;

  let stopping: Promise<void> | undefined;
  return {
    host,
    library,
    settings,
    report,
    url,
    monitorUrl: `${url}${MOUNT_PATH}/`,
    stop(stopOptions = {}) {
      stopping ??= (async () => {
        router.close();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
        await host.stop({ timeoutMs: stopOptions.timeoutMs ?? 5000 });
        detach();
        library.close();
      })();
      return stopping;
    },
  };
}
