import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ActionPlugin, type Host, PlugboardError, Task, Type } from '@plugboard/core';
import { createHttpHandler, type HttpHandler, toNodeListener } from '@plugboard/http';
import { createTestHost } from '@plugboard/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

class EchoTask extends Task<{ text: string }, string> {
  async run() {
    return this.input.text;
  }
}

class EchoPlugin extends ActionPlugin({
  id: 'echo',
  name: 'Echo',
  args: Type.Object({ text: Type.String() }),
  tasks: [EchoTask],
}) {
  createTasks(args: { text: string }) {
    return new EchoTask(args);
  }
}

const ada = { id: 'ada', name: 'Ada' };
const getUser = (request: Request) => (request.headers.get('x-user') === 'ada' ? ada : undefined);

let host: Host;
let handler: HttpHandler;
beforeEach(async () => {
  host = await createTestHost({ plugins: [EchoPlugin] });
  handler = createHttpHandler(host, { basePath: '/api', getUser });
});
afterEach(async () => {
  handler.close();
  await host.stop({ timeoutMs: 1000 });
});

const request = (path: string, init: RequestInit = {}) =>
  new Request(`http://plugboard.test${path}`, { ...init, headers: { 'x-user': 'ada', ...init.headers } });

describe('the handler on its own', () => {
  it('serves the API under its base path from a web Request, with no server in between', async () => {
    const response = await handler(
      request('/api/plugins/echo/execute', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ args: { text: 'hi' } }),
      }),
    );
    expect(response.status).toBe(202);
    const [task] = ((await response.json()) as { tasks: { id: string }[] }).tasks;
    expect(await host.tasks.wait(task!.id)).toMatchObject({ state: 'succeeded', result: 'hi' });
    const openapi = (await (await handler(request('/api/openapi.json'))).json()) as {
      servers: { url: string }[];
    };
    expect(openapi.servers[0]!.url).toBe('/api');
  });

  it('answers a path under the base that is no route with a 404 problem naming the mount', async () => {
    const response = await handler(request('/api/nothing-here'));
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toMatchObject({
      code: 'PLUGBOARD_NO_ROUTE',
      instance: '/api/nothing-here',
    });
    expect((await handler(request('/elsewhere'))).status).toBe(404);
  });

  it('route() resolves undefined for paths it does not serve and passes the native request to getUser', async () => {
    const seen: unknown[] = [];
    const adapted = createHttpHandler<typeof ada, { token: string }>(host, {
      getUser: (native) => {
        seen.push(native);
        return native.token === 'ok' ? ada : undefined;
      },
    });
    try {
      expect(await adapted.route(request('/app/page'), { basePath: '/api', native: { token: 'ok' } })).toBe(
        undefined,
      );
      const me = await adapted.route(request('/mounted/me'), {
        basePath: '/mounted',
        native: { token: 'ok' },
      });
      expect(await me!.json()).toEqual({ user: { id: 'ada', name: 'Ada' }, admin: false });
      expect(seen).toEqual([{ token: 'ok' }]);
    } finally {
      adapted.close();
    }
  });

  it('refuses a base path that is not an absolute path without a trailing slash', () => {
    for (const basePath of ['api', '/api/', '/a?b', 42]) {
      expect(() => createHttpHandler(host, { getUser, basePath: basePath as string })).toThrow(
        PlugboardError,
      );
    }
    expect(() => createHttpHandler(host, { getUser, basePath: 'api' })).toThrow(
      "Expected `basePath` to be a path such as '/plugboard' (no trailing slash; '' for the root), got `\"api\"` (string).",
    );
  });
});

describe('the event stream as a ReadableStream', () => {
  it('writes the frames of one event-loop turn in one chunk, and forgets a client whose request aborts', async () => {
    const abort = new AbortController();
    const response = await handler(request('/api/events', { signal: abort.signal }));
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    expect(decoder.decode((await reader.read()).value)).toContain('event: ready');
    expect(handler.eventStreams).toBe(1);
    // Queued and started in the same turn, then the progress of a second task: one chunk for the whole turn.
    await host.execute('echo', { text: 'a' }, { user: ada });
    await host.execute('echo', { text: 'b' }, { user: ada });
    const chunk = decoder.decode((await reader.read()).value);
    expect(chunk.match(/event: task:queued/g)?.length).toBe(2);
    abort.abort();
    expect(handler.eventStreams).toBe(0);
  });

  it('toNodeListener serves the handler on node:http and ends the stream when the client goes away', async () => {
    const server = http.createServer(toNodeListener(handler)).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    try {
      const abort = new AbortController();
      const response = await fetch(`http://127.0.0.1:${port}/api/events`, {
        headers: { 'x-user': 'ada' },
        signal: abort.signal,
      });
      const reader = response.body!.getReader();
      await reader.read();
      expect(handler.eventStreams).toBe(1);
      abort.abort();
      for (let i = 0; i < 100 && handler.eventStreams > 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(handler.eventStreams).toBe(0);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
