import { HttpProblemError, invalidRequest } from './problem.js';

/** The media types of JSON bodies: `application/json` and any `application/*+json`. */
export function isJsonType(contentType: string): boolean {
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/** Whether the request declares a body (a length, even 0, or a chunked transfer), as Express judges it. */
export function hasBody(request: Request): boolean {
  const { headers } = request;
  if (headers.has('transfer-encoding')) return true;
  const length = headers.get('content-length');
  return length !== null && length.trim() !== '' && !Number.isNaN(Number(length));
}

function unreadable(reason: string): Error {
  return invalidRequest('Invalid request body', [
    { path: '/', message: `could not be read (${reason}); send UTF-8 JSON` },
  ]);
}

function tooLarge(limit: number): Error {
  return new HttpProblemError(
    'PLUGBOARD_BODY_TOO_LARGE',
    `The request body is larger than ${limit} bytes; send smaller arguments.`,
  );
}

function charsetOf(contentType: string): string | undefined {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType);
  return match?.[1]?.toLowerCase();
}

function decoded(body: ReadableStream<Uint8Array>, encoding: string): ReadableStream<Uint8Array> {
  if (encoding === 'identity') return body;
  let decompress: DecompressionStream;
  try {
    // `br` is decoded where the runtime supports it (Node 22 and later); elsewhere it is refused like any other.
    decompress = new DecompressionStream(encoding as 'gzip');
  } catch {
    throw unreadable('encoding.unsupported');
  }
  // DOM and Node type its chunks differently (`Uint8Array<ArrayBuffer>`); both are bytes.
  return body.pipeThrough(decompress as unknown as TransformStream<Uint8Array, Uint8Array>);
}

async function readBytes(
  body: ReadableStream<Uint8Array>,
  limit: number,
  encoded: boolean,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  try {
    for (;;) {
      let next: Awaited<ReturnType<typeof reader.read>>;
      try {
        next = await reader.read();
      } catch (error) {
        if (!encoded) throw error;
        const code = (error as { code?: unknown }).code;
        throw invalidRequest('Invalid request body', [
          {
            path: '/',
            message: `could not be decoded${typeof code === 'string' ? ` (${code})` : ''}; check its Content-Encoding`,
          },
        ]);
      }
      if (next.done) break;
      size += next.value.byteLength;
      if (size > limit) throw tooLarge(limit);
      chunks.push(next.value);
    }
  } catch (error) {
    reader.cancel().catch(() => {});
    throw error;
  }
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

const decoder = new TextDecoder('utf-8');

/**
 * Reads a JSON body of at most `limit` bytes (after decompression), as Express's JSON parser does: a body that is
 * not JSON by its media type is left unread (`isJson: false`), an empty JSON body is `{}`, any JSON value is
 * accepted, and every failure is a coded client error.
 */
export async function readJsonBody(
  request: Request,
  limit: number,
): Promise<{ isJson: boolean | null; body: unknown }> {
  const contentType = request.headers.get('content-type') ?? '';
  if (!hasBody(request)) {
    // No length and no chunked transfer: HTTP/2 and requests built in code say nothing of their body. One that
    // is JSON by its type is read; anything else counts as no body, as a bodiless request does on HTTP/1.1.
    if (request.body === null || !isJsonType(contentType)) return { isJson: null, body: undefined };
  } else if (!isJsonType(contentType)) return { isJson: false, body: undefined };
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (declared > limit) throw tooLarge(limit);
  const charset = charsetOf(contentType);
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')
    throw unreadable('charset.unsupported');
  const encoding = (request.headers.get('content-encoding') ?? 'identity').trim().toLowerCase();
  if (request.body === null) return { isJson: true, body: {} };
  const bytes = await readBytes(decoded(request.body, encoding), limit, encoding !== 'identity');
  const text = decoder.decode(bytes);
  if (text === '') return { isJson: true, body: {} };
  try {
    return { isJson: true, body: JSON.parse(text) };
  } catch {
    throw invalidRequest('Invalid request body', [{ path: '/', message: 'is not valid JSON' }]);
  }
}
