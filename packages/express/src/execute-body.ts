import { type FieldError, isPlugboardError, PlugboardError } from '@plugboard/core';
import { HttpProblemError, invalidRequest } from './problem.js';
import { pointer } from './request-query.js';

/** The body of `POST /plugins/:id/execute`, checked. */
export interface ExecuteBody {
  readonly args: Record<string, unknown>;
  readonly context: string | undefined;
}

const BODY_KEYS = ['args', 'context'];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Checks the envelope of an execute body (`{ args, context }`); the plugin's own schema checks `args` later.
 * A missing body means no arguments.
 */
export function parseExecuteBody(body: unknown): ExecuteBody {
  if (body === undefined) return { args: {}, context: undefined };
  if (!isPlainObject(body)) {
    throw invalidRequest('Invalid execute body', [
      { path: '/', message: 'must be a JSON object such as {"args": {...}, "context": "<id>"}' },
    ]);
  }
  const errors: FieldError[] = [];
  for (const key of Object.keys(body)) {
    if (!BODY_KEYS.includes(key)) {
      errors.push({
        path: pointer(key),
        message: 'is not accepted; send `args` and, for a context plugin, `context`',
      });
    }
  }
  const { args, context } = body;
  if (args !== undefined && !isPlainObject(args)) {
    errors.push({ path: '/args', message: 'must be an object of the plugin arguments' });
  }
  if (
    context !== undefined &&
    (typeof context !== 'string' || context.length === 0 || context.length > 500)
  ) {
    errors.push({ path: '/context', message: 'must be the context object id, 1 to 500 characters' });
  }
  if (errors.length > 0) throw invalidRequest('Invalid execute body', errors);
  return {
    args: (args as Record<string, unknown> | undefined) ?? {},
    context: context as string | undefined,
  };
}

/**
 * Re-points the fields of the host's execution errors into the request body: argument fields under `/args`,
 * the context id (which core names after the kind's id argument) at `/context`.
 */
export function pointIntoBody(error: unknown): unknown {
  if (!isPlugboardError(error)) return error;
  const fields = error.details.fields;
  if (!Array.isArray(fields)) return error;
  const isContext = error.code === 'PLUGBOARD_CONTEXT_REQUIRED' || error.code === 'PLUGBOARD_UNKNOWN_CONTEXT';
  const moved = (fields as FieldError[]).map((f) => ({
    path: isContext ? '/context' : `/args${f.path === '/' ? '' : f.path}`,
    message: f.message,
  }));
  return new PlugboardError(error.code, error.message, {
    cause: error,
    details: { ...error.details, fields: moved },
  });
}

/** Maps the errors of Express's JSON body parser (too large, malformed...) to coded errors. */
export function fromBodyParserError(error: unknown, limit: number): unknown {
  if (error === null || typeof error !== 'object' || typeof (error as { type?: unknown }).type !== 'string') {
    return error;
  }
  const { type, status } = error as { type: string; status?: number };
  if (type === 'entity.too.large') {
    return new HttpProblemError(
      'PLUGBOARD_BODY_TOO_LARGE',
      `The request body is larger than ${limit} bytes; send smaller arguments.`,
    );
  }
  if (type === 'entity.parse.failed') {
    return invalidRequest('Invalid request body', [{ path: '/', message: 'is not valid JSON' }]);
  }
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return invalidRequest('Invalid request body', [
      { path: '/', message: `could not be read (${type}); send UTF-8 JSON` },
    ]);
  }
  return error;
}
