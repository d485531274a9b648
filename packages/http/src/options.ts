import { type HostLogger, holdsPermissions, type PlugboardUser, type PluginInfo } from '@plugboard/core';
import {
  booleanOption,
  checkOptionsObject,
  functionOption,
  integerOption,
  invalidOption,
} from '@plugboard/core/spi';

/**
 * Resolves the signed-in user of a request; `undefined` or `null` when nobody is signed in (401). `Native` is
 * what the server hands the handler: the web `Request` itself, or a framework's own request through an adapter.
 */
export type GetUser<User extends PlugboardUser = PlugboardUser, Native = Request> = (
  req: Native,
) => User | null | undefined | Promise<User | null | undefined>;

/** Options of {@link createHttpHandler}. */
export interface HttpHandlerOptions<User extends PlugboardUser = PlugboardUser, Native = Request> {
  /**
   * Resolves the user of a request from the host's own authentication (a session, a token...).
   * Requests without a user are answered 401.
   */
  readonly getUser: GetUser<User, Native>;
  /**
   * The path the handler is mounted at, such as `/plugboard`: the routes are served under it and the OpenAPI
   * document names it as its server. Adapters that know their mount path per request pass it to `route()`.
   * @default ''
   */
  readonly basePath?: string;
  /**
   * Administrators see every plugin and task, cancel any task, and may disable, enable and trigger.
   * @default () => false
   */
  readonly isAdmin?: (user: User) => boolean;
  /**
   * Which plugins a user sees in lists, forms, OpenAPI and the event stream (administrators see all).
   * @default every permission the plugin needs is in `user.permissions`
   */
  readonly canSeePlugin?: (user: User, plugin: PluginInfo) => boolean;
  /**
   * Serves the monitor page at `GET /` (and its assets under `/assets/`).
   * @default false
   */
  readonly ui?: boolean;
  /**
   * The largest JSON body accepted, in bytes; bigger bodies are answered 413.
   * @default 102400
   */
  readonly bodyLimit?: number;
  /**
   * How often an idle event stream gets a heartbeat comment, so proxies keep it open.
   * @default 15000
   */
  readonly heartbeatMs?: number;
  /**
   * How long an event stream gathers events before it writes them to its clients, in milliseconds: each client
   * gets at most one write per window, however many events it holds. `0` writes once per turn of the event loop.
   * @default 25
   */
  readonly eventBatchMs?: number;
  /**
   * How many recent events are kept for clients resuming with `Last-Event-ID`.
   * @default 1000
   */
  readonly eventBufferSize?: number;
  /**
   * How long `POST /tasks/:id/cancel` waits for a running task to stop before answering 202.
   * @default 5000
   */
  readonly cancelWaitMs?: number;
  /**
   * Called with every error that is not a Plugboard error (answered 500 without details), for the host's log.
   * @default the host's `logger` (`logger.error({ event: 'http:error', err }, ...)`) when it has one, else console.error
   */
  readonly onError?: (error: unknown, req: Native) => void;
}

/** The options with every default applied. */
export interface ResolvedRouterOptions<User extends PlugboardUser = PlugboardUser, Native = Request> {
  readonly getUser: GetUser<User, Native>;
  readonly basePath: string;
  readonly isAdmin: (user: User) => boolean;
  readonly canSeePlugin: (user: User, plugin: PluginInfo) => boolean;
  readonly ui: boolean;
  readonly bodyLimit: number;
  readonly heartbeatMs: number;
  readonly eventBatchMs: number;
  readonly eventBufferSize: number;
  readonly cancelWaitMs: number;
  readonly onError: (error: unknown, req: Native) => void;
}

function integer(options: object, name: keyof HttpHandlerOptions, min: number, fallback: number): number {
  const value = (options as Record<string, unknown>)[name];
  return integerOption(name, value, min, fallback, `a number >= ${min}`);
}

function callback<F>(options: object, name: keyof HttpHandlerOptions, fallback: F): F {
  return functionOption(name, (options as Record<string, unknown>)[name], fallback);
}

// A mount path is absolute, without a trailing slash, query or fragment; the root mount is ''.
const BASE_PATH = /^(\/[^/?#\s]+)*$/;

function basePathOption(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string' && BASE_PATH.test(value)) return value;
  throw invalidOption('basePath', "a path such as '/plugboard' (no trailing slash; '' for the root)", value);
}

/** Checks the handler options once, when the handler is built, and applies the defaults. */
export function resolveRouterOptions<User extends PlugboardUser, Native>(
  options: HttpHandlerOptions<User, Native>,
  logger?: HostLogger,
): ResolvedRouterOptions<User, Native> {
  checkOptionsObject('router', options, 'an object with `getUser`');
  if (typeof options.getUser !== 'function') {
    throw invalidOption('getUser', 'a function (req) => user', options.getUser);
  }
  return {
    getUser: options.getUser,
    basePath: basePathOption(options.basePath),
    isAdmin: callback(options, 'isAdmin', () => false),
    canSeePlugin: callback(options, 'canSeePlugin', holdsPermissions),
    ui: booleanOption('ui', options.ui, false),
    bodyLimit: integer(options, 'bodyLimit', 1, 102_400),
    heartbeatMs: integer(options, 'heartbeatMs', 1000, 15_000),
    eventBatchMs: integer(options, 'eventBatchMs', 0, 25),
    eventBufferSize: integer(options, 'eventBufferSize', 1, 1000),
    cancelWaitMs: integer(options, 'cancelWaitMs', 0, 5000),
    onError: callback(options, 'onError', (error: unknown) => {
      if (logger) logger.error({ event: 'http:error', err: error }, 'Plugboard HTTP handler failed');
      else console.error(error);
    }),
  };
}
