import { FINAL_TASK_STATES, type FieldError, type TaskState } from '@plugboard/core';
import { decodeCursor } from '@plugboard/core/spi';
import { invalidRequest } from './problem.js';

/** Every task state, in lifecycle order. */
export const TASK_STATES: readonly TaskState[] = ['queued', 'running', ...FINAL_TASK_STATES];

/** The filters and paging of `GET /tasks`, checked. */
export interface TaskListQuery {
  readonly user?: string;
  readonly plugin?: string;
  readonly state?: readonly TaskState[];
  readonly limit?: number;
  readonly cursor?: string;
}

/** The paging of `GET /tasks/:id/logs`, checked. */
export interface LogListQuery {
  readonly after?: number;
  readonly limit?: number;
}

type RawQuery = Record<string, unknown>;

/** A JSON Pointer to one query parameter. */
export function pointer(name: string): string {
  return `/${name.slice(0, 80).replaceAll('~', '~0').replaceAll('/', '~1')}`;
}

/** Reads and checks one route's query parameters, collecting every error before throwing. */
export class QueryReader {
  readonly errors: FieldError[] = [];
  readonly #query: RawQuery;

  constructor(query: unknown, accepted: readonly string[]) {
    this.#query = query !== null && typeof query === 'object' ? (query as RawQuery) : {};
    for (const name of Object.keys(this.#query)) {
      if (!accepted.includes(name)) {
        this.errors.push({
          path: pointer(name),
          message:
            accepted.length > 0
              ? `is not a query parameter of this route; use ${accepted.map((a) => `\`${a}\``).join(', ')}`
              : 'is not a query parameter of this route, which takes none',
        });
      }
    }
  }

  /** A parameter given at most once, as a string. */
  single(name: string): string | undefined {
    const value = this.#query[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') {
      this.errors.push({ path: pointer(name), message: 'must be given once' });
      return undefined;
    }
    return value;
  }

  /** A parameter that may be repeated or comma-separated. */
  list(name: string): string[] | undefined {
    const value = this.#query[name];
    if (value === undefined) return undefined;
    const parts = (Array.isArray(value) ? value : [value]).flatMap((v) => String(v).split(','));
    return parts.map((p) => p.trim());
  }

  text(name: string, maxLength = 200): string | undefined {
    const value = this.single(name);
    if (value === undefined) return undefined;
    if (value.length === 0 || value.length > maxLength) {
      this.errors.push({ path: pointer(name), message: `must be 1 to ${maxLength} characters long` });
      return undefined;
    }
    return value;
  }

  integer(name: string, min: number, max: number): number | undefined {
    const value = this.single(name);
    if (value === undefined) return undefined;
    const n = /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      this.errors.push({ path: pointer(name), message: `must be an integer from ${min} to ${max}` });
      return undefined;
    }
    return n;
  }

  check(what: string): void {
    if (this.errors.length > 0) throw invalidRequest(what, this.errors);
  }
}

/** Checks the query string of `GET /tasks`; every failing parameter is reported at once. */
export function parseTaskListQuery(query: unknown): TaskListQuery {
  const reader = new QueryReader(query, ['user', 'plugin', 'state', 'limit', 'cursor']);
  const user = reader.text('user');
  const plugin = reader.text('plugin');
  const limit = reader.integer('limit', 1, 500);
  const cursor = reader.single('cursor');
  if (cursor !== undefined && decodeCursor(cursor) === undefined) {
    reader.errors.push({ path: '/cursor', message: 'is not a cursor returned by a previous page' });
  }
  const states = reader.list('state');
  let state: TaskState[] | undefined;
  if (states !== undefined) {
    const unknown = states.filter((s) => !(TASK_STATES as readonly string[]).includes(s));
    if (unknown.length > 0 || states.length === 0) {
      reader.errors.push({ path: '/state', message: `must be one or more of ${TASK_STATES.join(', ')}` });
    } else state = [...new Set(states)] as TaskState[];
  }
  reader.check('Invalid task query');
  return { user, plugin, state, limit, cursor };
}

/** Checks the query string of `GET /tasks/:id/logs`. */
export function parseLogQuery(query: unknown): LogListQuery {
  const reader = new QueryReader(query, ['after', 'limit']);
  const after = reader.integer('after', 0, Number.MAX_SAFE_INTEGER);
  const limit = reader.integer('limit', 1, 1000);
  reader.check('Invalid log query');
  return { after, limit };
}

/** Refuses any query parameter on routes that take none. */
export function parseEmptyQuery(query: unknown): void {
  new QueryReader(query, []).check('Invalid query string');
}
