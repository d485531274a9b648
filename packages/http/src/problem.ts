import {
  type ErrorCatalogueEntry,
  errorCatalogue,
  type FieldError,
  isPlugboardError,
  PlugboardError,
} from '@plugboard/core';
import { textResponse } from './response-text.js';

type HttpErrorCode = 'PLUGBOARD_BODY_TOO_LARGE' | 'PLUGBOARD_NO_ROUTE' | 'PLUGBOARD_INTERNAL_ERROR';

/**
 * Codes that only exist where Plugboard crosses HTTP: `PLUGBOARD_BODY_TOO_LARGE` (413), `PLUGBOARD_NO_ROUTE`
 * (404, from the standalone handler only) and `PLUGBOARD_INTERNAL_ERROR` (500). They are not in core's catalogue yet; they keep the `PLUGBOARD_` prefix so
 * clients can switch on one family of codes.
 */
export const httpErrorCatalogue: { readonly [Code in HttpErrorCode]: ErrorCatalogueEntry } = {
  PLUGBOARD_BODY_TOO_LARGE: { status: 413, title: 'The request body is larger than the router accepts' },
  PLUGBOARD_NO_ROUTE: { status: 404, title: 'No route of the HTTP API has this method and path' },
  PLUGBOARD_INTERNAL_ERROR: { status: 500, title: 'An unexpected error occurred' },
};

/**
 * A code a problem document may carry.
 *
 * @useDeclaredType
 */
export type ProblemCode = keyof typeof errorCatalogue | keyof typeof httpErrorCatalogue;

/** An RFC 9457 problem document as the router sends it. */
export interface Problem {
  /** A URI naming the kind of problem: `urn:plugboard:error:<code>`. */
  readonly type: string;
  /** The catalogue's short title for the code. */
  readonly title: string;
  /** The HTTP status of the response. */
  readonly status: number;
  /** What went wrong on this request and what to do about it. */
  readonly detail: string;
  /** The stable error code; switch on this rather than on the text. */
  readonly code: ProblemCode;
  /** The request path the problem is about. */
  readonly instance?: string;
  /** Every failing field, as JSON Pointers into the request (body, query or header). */
  readonly errors?: readonly FieldError[];
  /** Other details the error carries that are safe to show a client. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** The media type of problem documents. */
export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/** An error the router raises itself with one of the HTTP-only codes. */
export class HttpProblemError extends Error {
  override readonly name = 'HttpProblemError';
  readonly code: keyof typeof httpErrorCatalogue;
  constructor(code: keyof typeof httpErrorCatalogue, message: string) {
    super(message);
    this.code = code;
  }
}

/** Builds the coded 400 for failing request fields. */
export function invalidRequest(what: string, fields: readonly FieldError[]): PlugboardError {
  const sentence = fields.map((f) => `\`${f.path}\` ${f.message}`).join('; ');
  return new PlugboardError('PLUGBOARD_INVALID_ARGUMENTS', `${what}: ${sentence}.`, { details: { fields } });
}

function isFieldList(value: unknown): value is FieldError[] {
  return (
    Array.isArray(value) &&
    value.every(
      (f) =>
        f !== null && typeof f === 'object' && typeof f.path === 'string' && typeof f.message === 'string',
    )
  );
}

/** Maps any thrown value to a problem document; nothing but the code, message and safe details leaves. */
export function toProblem(error: unknown, instance?: string): Problem {
  if (isPlugboardError(error)) {
    const { fields, ...rest } = error.details as { fields?: unknown };
    return {
      type: `urn:plugboard:error:${error.code}`,
      title: errorCatalogue[error.code].title,
      status: error.status,
      detail: error.message,
      code: error.code,
      instance,
      errors: isFieldList(fields) ? fields : undefined,
      details: Object.keys(rest).length > 0 ? rest : undefined,
    };
  }
  const code = error instanceof HttpProblemError ? error.code : 'PLUGBOARD_INTERNAL_ERROR';
  const entry = httpErrorCatalogue[code];
  return {
    type: `urn:plugboard:error:${code}`,
    title: entry.title,
    status: entry.status,
    detail:
      error instanceof HttpProblemError
        ? error.message
        : 'The server met an unexpected error; its log has the details.',
    code,
    instance,
  };
}

const PROBLEM_HEADERS = { 'Content-Type': `${PROBLEM_MEDIA_TYPE}; charset=utf-8` };

/** A problem document as a response. */
export function problemResponse(problem: Problem): Response {
  return textResponse(JSON.stringify(problem), problem.status, PROBLEM_HEADERS);
}
