import type { IncomingMessage, ServerResponse } from 'node:http';
import { directStreamOf, type StreamSink } from './direct-stream.js';
import { textOf } from './response-text.js';

/** A `node:http` request listener. */
export type NodeListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The body of a `node:http` request as a web stream: chunks as they arrive, the request paused while the stream
 * is full, and left unread (Node discards the rest) when the reader cancels, as after a 413.
 */
function bodyOf(req: IncomingMessage): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        req.on('data', (chunk: Buffer) => {
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((controller.desiredSize ?? 1) <= 0) req.pause();
        });
        req.once('end', () => controller.close());
        req.once('error', (error) => controller.error(error));
      },
      pull() {
        req.resume();
      },
      cancel() {
        req.pause();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: 64 * 1024 }),
  );
}

/**
 * The web `Request` for a `node:http` request. Its signal aborts when the client goes away before the answer
 * is complete, which ends an event stream.
 */
export function toWebRequest(req: IncomingMessage, res: ServerResponse): Request {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
  // Connect-style servers (Express) strip their mount path from `url` and keep the full one in `originalUrl`.
  const path = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
  const url = `${encrypted ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}${path}`;
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  const init: RequestInit & { duplex?: 'half' } = { method: req.method, headers, signal: controller.signal };
  // A body only where the request declares one (HTTP/2 declares none and may still carry one).
  const declaresBody =
    req.headers['transfer-encoding'] !== undefined ||
    req.headers['content-length'] !== undefined ||
    req.httpVersionMajor >= 2;
  if (req.method !== 'GET' && req.method !== 'HEAD' && declaresBody) {
    init.body = bodyOf(req);
    init.duplex = 'half';
  }
  return new Request(url, init);
}

/** How much a direct stream may hold unsent before it counts as full, as the web stream's queue would. */
const DIRECT_HIGH_WATER_MARK = 64 * 1024;

/** A Node response as the sink of an event stream: what it has not sent yet is what the sink holds. */
function nodeSink(res: ServerResponse): StreamSink {
  return {
    enqueue(chunk) {
      if (!res.writableEnded && !res.destroyed) res.write(chunk);
    },
    get desiredSize() {
      return DIRECT_HIGH_WATER_MARK - res.writableLength;
    },
    close() {
      if (!res.writableEnded && !res.destroyed) res.end();
    },
    error() {
      res.destroy();
    },
  };
}

/** Writes a web `Response` to a `node:http` response, streaming its body with back-pressure. */
export async function sendWebResponse(response: Response, res: ServerResponse): Promise<void> {
  res.statusCode = response.status;
  for (const [name, value] of response.headers) {
    if (name === 'set-cookie') continue;
    res.setHeader(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);
  const text = textOf(response);
  if (text !== undefined || response.body === null) {
    res.end(text);
    return;
  }
  res.flushHeaders();
  // An event stream of this package is written to the socket directly, without its web stream in between.
  const release = directStreamOf(response)?.(nodeSink(res));
  if (release) {
    // The client may have gone already, while the handler answered.
    if (res.destroyed || (res as { closed?: boolean }).closed === true) release();
    else res.once('close', release);
    return;
  }
  const reader = response.body.getReader();
  const stop = () => {
    reader.cancel().catch(() => {});
  };
  res.once('close', stop);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          res.once('drain', resolve);
          res.once('close', resolve);
        });
        if (res.destroyed) return;
      }
    }
    res.end();
  } catch {
    // The body failed (an event stream dropped a client that read too slowly): end the connection abruptly.
    res.destroy();
  } finally {
    res.off('close', stop);
  }
}

/**
 * Serves a web-standard handler on a `node:http` (or `https`, `http2` compatibility) server.
 *
 * @example
 * http.createServer(toNodeListener(createHttpHandler(host, { getUser }))).listen(3000);
 */
export function toNodeListener(handler: (request: Request) => Promise<Response>): NodeListener {
  return (req, res) => {
    handler(toWebRequest(req, res))
      .then((response) => sendWebResponse(response, res))
      .catch((error: unknown) => {
        if (!res.headersSent) {
          res.statusCode = 500;
          res.end();
        } else res.destroy(error as Error);
      });
  };
}
