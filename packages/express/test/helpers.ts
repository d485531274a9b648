import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ActionPlugin,
  BackgroundTaskPlugin,
  ContextPlugin,
  defineContextKind,
  type Host,
  type PlugboardUser,
  Task,
  type TaskContext,
  Type,
} from '@plugboard/core';
import { type PlugboardRouter, type PlugboardRouterOptions, plugboardRouter } from '@plugboard/express';
import { createTestHost, type TestHostOptions } from '@plugboard/testing';
import express from 'express';
import { ADAPTER, serveOn } from './adapters.js';

const scratch = fileURLToPath(new URL('../../../.tmp/tests/', import.meta.url));

/**
 * Writes files into a fresh folder inside the repository (so plugin files there resolve `@plugboard/core` as an
 * installed plugin would) and returns its path.
 */
export function tempDir(files: Record<string, string> = {}): string {
  mkdirSync(scratch, { recursive: true });
  const dir = mkdtempSync(join(scratch, 'plugboard-express-test-'));
  for (const [name, content] of Object.entries(files)) {
    const file = join(dir, name);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  return dir;
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The signed-in users of the tests: two ordinary users with the `text` permission and an administrator. */
export const USERS: Record<string, PlugboardUser> = {
  alice: { id: 'alice', name: 'Alice', permissions: ['text'] },
  bob: { id: 'bob', name: 'Bob', permissions: ['text'] },
  root: { id: 'root', name: 'Root', permissions: [] },
};

const GreetArgs = Type.Object({
  name: Type.String({ minLength: 1, description: 'Who to greet' }),
  times: Type.Integer({ minimum: 1, maximum: 5, default: 1, description: 'How many greetings' }),
  tone: Type.Union([Type.Literal('plain'), Type.Literal('fancy')], { default: 'plain' }),
  loud: Type.Optional(Type.Boolean({ description: 'Shout it', default: false })),
});

class GreetTask extends Task<{ name: string; times: number; tone: string; loud?: boolean }, string> {
  async run(ctx: TaskContext) {
    const lines: string[] = [];
    for (let i = 1; i <= this.input.times; i++) {
      await sleep(40);
      const line = `${this.input.tone === 'fancy' ? 'Salutations' : 'Hello'}, ${this.input.name}!`;
      lines.push(this.input.loud ? line.toUpperCase() : line);
      ctx.log.info(`greeting ${i} of ${this.input.times}`);
      ctx.status(`Greeted ${i} time(s)`);
      ctx.progress((i / this.input.times) * 100, `greeting ${i}`);
    }
    return lines.join(' ');
  }
}

/** Greets someone: arguments of every simple type, quick tasks. */
export class GreetPlugin extends ActionPlugin({
  id: 'greet',
  name: 'Greet',
  description: 'Says hello, a few times.',
  category: 'Text',
  sortOrder: 1,
  permissions: ['text'],
  args: GreetArgs,
  tasks: [GreetTask],
}) {
  createTasks(args: { name: string; times: number; tone: string; loud?: boolean }) {
    return new GreetTask(args);
  }
}

class SlowTask extends Task<{ stepMs: number; steps: number }, { steps: number }> {
  async run(ctx: TaskContext) {
    for (let i = 1; i <= this.input.steps; i++) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, this.input.stepMs);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(ctx.signal.reason);
        });
      });
      ctx.progress((i / this.input.steps) * 100);
      ctx.status(`Step ${i} of ${this.input.steps}`);
    }
    return { steps: this.input.steps };
  }
}

/** Runs until cancelled (or its steps are done): what cancellation is tested with. */
export class SlowPlugin extends ActionPlugin({
  id: 'slow',
  name: 'Slow job',
  description: 'Takes its time.',
  category: 'Maintenance',
  sortOrder: 2,
  args: Type.Object({
    steps: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    stepMs: Type.Integer({ minimum: 1, maximum: 10_000, default: 100 }),
  }),
  tasks: [SlowTask],
}) {
  createTasks(args: { steps: number; stepMs: number }) {
    return new SlowTask(args);
  }
}

class NoopTask extends Task<Record<string, never>, string> {
  async run() {
    return 'done';
  }
}

/** Needs a permission nobody but administrators get. */
export class SecretPlugin extends ActionPlugin({
  id: 'secret',
  name: 'Secret',
  category: 'Maintenance',
  sortOrder: 1,
  permissions: ['secret'],
  tasks: [NoopTask],
}) {
  createTasks() {
    return new NoopTask({});
  }
}

/** Never ready: shown with its reason, refused with 409. */
export class OfflinePlugin extends ActionPlugin({
  id: 'offline',
  name: 'Offline service',
  category: 'Text',
  sortOrder: 5,
  tasks: [NoopTask],
}) {
  override isReady() {
    return { ready: false, reason: 'The translation service is unreachable; check TRANSLATE_URL.' };
  }
  createTasks() {
    return new NoopTask({});
  }
}

/** Its createTasks throws: a 500 whose body carries no stack. */
export class FaultyPlugin extends ActionPlugin({
  id: 'faulty',
  name: 'Faulty',
  category: 'Maintenance',
  sortOrder: 9,
  tasks: [NoopTask],
}) {
  createTasks(): never {
    throw new Error('disk on fire');
  }
}

const books = new Map([['b1', { id: 'b1', title: 'Dune', words: 188_000 }]]);
const BookKind = defineContextKind({
  id: 'book',
  idArgument: 'bookId',
  description: 'The book to count',
  resolve: (id: string) => books.get(id),
});

class CountTask extends Task<{ title: string; words: number }, number> {
  async run() {
    return this.input.words;
  }
}

/** Acts on one book: the context id is required and resolved. */
export class CountWordsPlugin extends ContextPlugin(BookKind, {
  id: 'count-words',
  name: 'Count words',
  category: 'Books',
  tasks: [CountTask],
}) {
  createTasks(_args: unknown, book: { title: string; words: number }) {
    return new CountTask({ title: book.title, words: book.words });
  }
}

/** A background plugin whose schedule is far in the future: only manual triggers run it. */
export class NightlyPlugin extends BackgroundTaskPlugin({
  id: 'nightly',
  name: 'Nightly clean-up',
  category: 'Maintenance',
  sortOrder: 3,
  delaySeconds: 3600,
  tasks: [NoopTask],
}) {
  createTasks() {
    return new NoopTask({});
  }
}

/** Every plugin of the tests. */
export const PLUGINS = [
  GreetPlugin,
  SlowPlugin,
  SecretPlugin,
  OfflinePlugin,
  FaultyPlugin,
  CountWordsPlugin,
  NightlyPlugin,
];

/** Reads the user from the `x-user` header or the `user` cookie, as a host's own authentication would. */
export function userFromRequest(req: express.Request): PlugboardUser | undefined {
  const header = req.get('x-user');
  const cookie = /(?:^|;\s*)user=([^;]+)/.exec(req.get('cookie') ?? '')?.[1];
  const name = header ?? cookie;
  return name !== undefined && Object.hasOwn(USERS, name) ? USERS[name] : undefined;
}

/** A fetch response whose JSON the tests read without declaring every shape. */
export interface JsonResponse extends Response {
  json(): Promise<any>;
}

/** A host behind a real HTTP server on loopback. */
export interface TestServer {
  readonly host: Host;
  /** The mounted API: its open event streams, and a way to end them. */
  readonly router: Pick<PlugboardRouter, 'close' | 'eventStreams'>;
  /** The router's base URL, ending in `/plugboard`. */
  readonly url: string;
  /** Errors the router reported through `onError`. */
  readonly reported: unknown[];
  /** `fetch` relative to the router, as the given user (or nobody). */
  request(user: string | null, path: string, init?: RequestInit): Promise<JsonResponse>;
  close(): Promise<void>;
}

/**
 * Starts a test host with {@link PLUGINS} (and `hostOptions`) and serves its router at `/plugboard` on 127.0.0.1.
 */
export async function startServer(
  options: Partial<PlugboardRouterOptions> = {},
  hostOptions: Omit<TestHostOptions, 'plugins'> = {},
): Promise<TestServer> {
  const host = await createTestHost({ plugins: PLUGINS, concurrency: 8, ...hostOptions });
  const reported: unknown[] = [];
  const settings: PlugboardRouterOptions = {
    getUser: userFromRequest,
    isAdmin: (user) => user.id === 'root',
    onError: (error) => reported.push(error),
    ...options,
  };
  // PLUGBOARD_HTTP_ADAPTER picks the server: Express (the default), Hono, Fastify or node:http.
  const { router, server } =
    ADAPTER === 'express' ? await serveExpress(host, settings) : await serveOn(ADAPTER, host, settings);
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/plugboard`;
  return {
    host,
    router,
    url,
    reported,
    request(user, path, init = {}) {
      const headers = new Headers(init.headers);
      if (user !== null) headers.set('x-user', user);
      return fetch(`${url}${path}`, { ...init, headers }) as Promise<JsonResponse>;
    },
    async close() {
      router.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await host.stop({ timeoutMs: 1000 });
    },
  };
}

async function serveExpress(host: Host, settings: PlugboardRouterOptions) {
  const router = plugboardRouter(host, settings);
  const app = express();
  app.use('/plugboard', router);
  app.get('/health', (_req, res) => {
    res.send('ok');
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return { router, server };
}

/** POSTs JSON. */
export function postJson(body: unknown): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** Reads a problem document, checking its media type. */
export async function problemOf(response: Response): Promise<{
  status: number;
  code: string;
  title: string;
  detail: string;
  type: string;
  errors?: { path: string; message: string }[];
  [key: string]: unknown;
}> {
  const type = response.headers.get('content-type') ?? '';
  if (!type.startsWith('application/problem+json')) {
    throw new Error(`Expected a problem document, got ${response.status} ${type}: ${await response.text()}`);
  }
  return response.json() as never;
}

/** Polls `check` every 20 ms until it returns a value other than `undefined`, for at most `ms`. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  ms = 5000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Condition not met within ${ms} ms`);
    await sleep(20);
  }
}
