import { type FieldError, isPlugboardError, PlugboardError } from '@plugboard/core';
import { invalidRequest } from './problem.js';
import { pointer } from './request-query.js';

/** The body of `POST /plugins/:id/execute`, checked. */
export interface ExecuteBody {
  readonly args: Record<string, unknown>;
  readonly context: string | undefined;
}

const BODY_KEYS = ['args', 'context'];

/**
 * How deep an argument may nest arrays and objects: the host refuses deeper input, and the router says which
 * argument it is before anything walks the value.
 */
export const MAX_ARGUMENT_DEPTH = 64;

/** Whether `value` nests arrays and objects deeper than `MAX_ARGUMENT_DEPTH`, counting `value` itself as 1. */
function nestedTooDeep(value: unknown, depth: number): boolean {
  if (depth > MAX_ARGUMENT_DEPTH) return true;
  if (value === null || typeof value !== 'object') return false;
  for (const item of Array.isArray(value) ? value : Object.values(value)) {
    if (item !== null && typeof item === 'object' && nestedTooDeep(item, depth + 1)) return true;
  }
  return false;
}

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
  } else if (args !== undefined) {
    for (const [name, value] of Object.entries(args)) {
      if (nestedTooDeep(value, 1)) {
        errors.push({
          path: `/args${pointer(name)}`,
          message: `is nested more than ${MAX_ARGUMENT_DEPTH} levels deep`,
        });
      }
    }
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
  if (!Array.isArray(fields)) {
    // Every refused argument is named: an error about the arguments that names no field concerns them all.
    if (error.code !== 'PLUGBOARD_INVALID_ARGUMENTS') return error;
    return new PlugboardError(error.code, error.message, {
      cause: error,
      details: { ...error.details, fields: [{ path: '/args', message: error.message }] },
    });
  }
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
