import type { PlugboardUser, PluginInfo } from '@plugboard/core';
import type { Request } from 'express';

/** Resolves the signed-in user of a request; `undefined` or `null` when nobody is signed in (401). */
export type GetUser<User extends PlugboardUser = PlugboardUser> = (
  req: Request,
) => User | null | undefined | Promise<User | null | undefined>;

/** Options of {@link plugboardRouter}; the same as `HttpHandlerOptions` of `@plugboard/http` with Express's request. */
export interface PlugboardRouterOptions<User extends PlugboardUser = PlugboardUser> {
  /**
   * Resolves the user of a request from the host's own authentication (a session, a token...).
   * Requests without a user are answered 401.
   */
  readonly getUser: GetUser<User>;
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
  readonly onError?: (error: unknown, req: Request) => void;
}
