/**
 * The text of responses the handler builds from a string, so a server adapter on Node can write the string
 * directly instead of reading it back through the body stream. Responses made elsewhere are read as streams.
 */
const TEXTS = new WeakMap<Response, string>();

/** A response whose body is `text`, remembered for {@link textOf}. */
export function textResponse(text: string, status: number, headers: Record<string, string>): Response {
  const response = new Response(text, { status, headers });
  TEXTS.set(response, text);
  return response;
}

/** The body of a response built by {@link textResponse}; `undefined` for any other. */
export function textOf(response: Response): string | undefined {
  return TEXTS.get(response);
}

const JSON_HEADERS = { 'Content-Type': 'application/json; charset=utf-8' };

/** A JSON response. */
export function jsonResponse(body: unknown, status = 200, headers?: Record<string, string>): Response {
  return textResponse(JSON.stringify(body), status, headers ? { ...JSON_HEADERS, ...headers } : JSON_HEADERS);
}
