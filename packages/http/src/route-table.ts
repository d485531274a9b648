import { invalidRequest } from './problem.js';
import { jsonResponse } from './response-text.js';

/** A parsed query string: a parameter given once is a string, a repeated one an array. */
export type RawQuery = Record<string, string | string[]>;

/** One request as a route sees it. */
export interface RouteRequest<Native> {
  /** The web request. */
  readonly request: Request;
  /** What the server handed the handler (the `Request` itself, or a framework's request through an adapter). */
  readonly native: Native;
  /** The request's full path, still percent-encoded, without the query. */
  readonly path: string;
  /** The path the handler is mounted at (`''` at the root). */
  readonly basePath: string;
  /** The decoded path parameters. */
  readonly params: Readonly<Record<string, string>>;
  /** The query string, parsed on first use. */
  readonly query: RawQuery;
  /** The parsed JSON body, once a body step read it. */
  body?: unknown;
  /** Whether the request carries a body that is not JSON (`null` when it carries none). */
  isJson?: boolean | null;
}

/** What a route answers: `res.json(...)`, `res.status(202).json(...)` or a whole `Response`. */
export class Reply {
  #status = 200;
  response: Response | undefined;

  /** Sets the status of the JSON answer. */
  status(code: number): this {
    this.#status = code;
    return this;
  }

  /** Answers with a JSON body. */
  json(body: unknown): void {
    this.response = jsonResponse(body, this.#status);
  }

  /** Answers with a response built elsewhere (a page, an event stream). */
  send(response: Response): void {
    this.response = response;
  }
}

/** One step of a route: reads the request, writes the reply. Steps run in order until one replies. */
export type RouteStep<Native> = (req: RouteRequest<Native>, res: Reply) => unknown;

interface Route<Native> {
  readonly method: string;
  /** The path's segments: a literal, or `:name` for a parameter. */
  readonly segments: readonly string[];
  readonly steps: readonly RouteStep<Native>[];
}

// A query string has at most this many parameters read, as Express's own parser does.
const MAX_QUERY_KEYS = 1000;

/** Parses a query string the way Express 5's default parser does: repeated names become arrays. */
export function parseQuery(search: string): RawQuery {
  // No prototype, so a parameter named `__proto__` or `constructor` is a parameter like any other.
  const query: RawQuery = Object.create(null);
  if (search === '') return query;
  let keys = 0;
  // The leading `&` keeps a query that starts with `?` (`/me??`) from losing it: URLSearchParams drops one `?`.
  for (const [name, value] of new URLSearchParams(`&${search}`)) {
    if (++keys > MAX_QUERY_KEYS) break;
    const existing = query[name];
    if (existing === undefined) query[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else query[name] = [existing, value];
  }
  return query;
}

function decodeParam(value: string, name: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw invalidRequest('Invalid request path', [
      { path: `/${name}`, message: 'is not valid percent-encoded UTF-8' },
    ]);
  }
}

/**
 * The routes of the HTTP API in one table, matched as Express matches them: literal segments case-insensitively,
 * a trailing slash optional, `HEAD` served by the `GET` route, parameters percent-decoded.
 */
export class RouteTable<Native> {
  readonly #routes: Route<Native>[] = [];

  get(path: string, ...steps: RouteStep<Native>[]): void {
    this.#add('GET', path, steps);
  }

  post(path: string, ...steps: RouteStep<Native>[]): void {
    this.#add('POST', path, steps);
  }

  #add(method: string, path: string, steps: RouteStep<Native>[]): void {
    const segments = path === '/' ? [] : path.slice(1).split('/');
    this.#routes.push({
      method,
      segments: segments.map((s) => (s.startsWith(':') ? s : s.toLowerCase())),
      steps,
    });
  }

  /**
   * The route for a method and a path relative to the mount (`/` or `/plugins/x`), with its decoded parameters;
   * `undefined` when none matches.
   */
  match(
    method: string,
    path: string,
  ): { steps: readonly RouteStep<Native>[]; params: Record<string, string> } | undefined {
    const wanted = method === 'HEAD' ? 'GET' : method;
    let trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
    if (trimmed.startsWith('/')) trimmed = trimmed.slice(1);
    const parts = trimmed === '' ? [] : trimmed.split('/');
    for (const route of this.#routes) {
      if (route.method !== wanted || route.segments.length !== parts.length) continue;
      let matches = true;
      for (let i = 0; i < parts.length; i++) {
        const segment = route.segments[i]!;
        const part = parts[i]!;
        if (segment.startsWith(':') ? part === '' : segment !== part.toLowerCase()) {
          matches = false;
          break;
        }
      }
      if (!matches) continue;
      const params: Record<string, string> = {};
      for (let i = 0; i < parts.length; i++) {
        const segment = route.segments[i]!;
        if (segment.startsWith(':')) params[segment.slice(1)] = decodeParam(parts[i]!, segment.slice(1));
      }
      return { steps: route.steps, params };
    }
    return undefined;
  }
}
