import { parse } from 'node:querystring';
import { ActionPlugin, PlugboardError, Task } from '@plugboard/core';
import { plugboardRouter } from '@plugboard/express';
import { createTestHost } from '@plugboard/testing';
import express from 'express';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { postJson, problemOf, startServer, type TestServer, userFromRequest } from './helpers.js';

// Hostile requests from a real client over loopback: JSON text written by hand (so it can carry `__proto__` keys,
// numbers JavaScript cannot hold and any depth of nesting), raw path segments and raw query strings. Whatever
// arrives, the answer is a success or a coded 4xx problem document, never a 500, and nothing leaks into the
// prototypes of the server's objects.

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

/** Every property below runs at most this often, so the file stays well under a minute. */
const RUNS = 200;

// ---------------------------------------------------------------------------------------------------------------
// Prototype pollution: what the process's shared prototypes look like before any request.

const PROTOTYPES = { Object: Object.prototype, Array: Array.prototype, Function: Function.prototype };
const snapshot = Object.fromEntries(
  Object.entries(PROTOTYPES).map(([name, proto]) => [
    name,
    new Map(Reflect.ownKeys(proto).map((key) => [key, Object.getOwnPropertyDescriptor(proto, key)])),
  ]),
);

/** Fails when any request added, removed or replaced a property of a shared prototype. */
function expectPrototypesUntouched(): void {
  for (const [name, proto] of Object.entries(PROTOTYPES)) {
    const before = snapshot[name]!;
    expect(Reflect.ownKeys(proto).map(String).sort(), `${name}.prototype keys`).toEqual(
      [...before.keys()].map(String).sort(),
    );
    for (const [key, descriptor] of before) {
      expect(Object.getOwnPropertyDescriptor(proto, key), `${name}.prototype.${String(key)}`).toEqual(
        descriptor,
      );
    }
  }
  const probe: Record<string, unknown> = {};
  expect(probe.polluted).toBeUndefined();
  expect(Object.getPrototypeOf(probe)).toBe(Object.prototype);
}

afterEach(() => expectPrototypesUntouched());

// ---------------------------------------------------------------------------------------------------------------
// Answers.

interface Answer {
  readonly status: number;
  readonly type: string;
  readonly text: string;
  readonly body: any;
}

async function answer(response: Response): Promise<Answer> {
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, type: response.headers.get('content-type') ?? '', text, body };
}

/**
 * A refusal is a 4xx `application/problem+json` with a catalogue code; a 400 about the request names each
 * failing field with a JSON Pointer that `fieldRoots` allows (the body keys, query parameters... it concerns).
 */
function expectCodedRefusal(result: Answer, fieldRoots: readonly string[] = []): void {
  expect(result.status, result.text).toBeGreaterThanOrEqual(400);
  expect(result.status, result.text).toBeLessThan(500);
  expect(result.type).toMatch(/^application\/problem\+json/);
  expect(result.body.code).toMatch(/^PLUGBOARD_[A-Z_]+$/);
  expect(result.body.status).toBe(result.status);
  expect(result.body.detail.length).toBeGreaterThan(0);
  expect(result.text).not.toMatch(/\n\s+at /);
  if (result.body.code === 'PLUGBOARD_INVALID_ARGUMENTS') {
    expect(result.body.errors?.length, result.text).toBeGreaterThan(0);
    for (const error of result.body.errors) {
      expect(error.path).toMatch(/^\//);
      expect(error.message.length).toBeGreaterThan(0);
      if (fieldRoots.length > 0) {
        expect(
          fieldRoots.some((root) => error.path === root || error.path.startsWith(`${root}/`)),
          `${error.path} is under one of ${fieldRoots.join(', ')}`,
        ).toBe(true);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// JSON text, written by hand.

/** A JSON value as text is written: objects are key lists (keys may repeat and may be `__proto__`). */
type JsonText =
  | { readonly kind: 'number'; readonly raw: string }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'literal'; readonly raw: 'true' | 'false' | 'null' }
  | { readonly kind: 'array'; readonly items: readonly JsonText[] }
  | { readonly kind: 'object'; readonly entries: readonly (readonly [string, JsonText])[] }
  // `inner` inside `depth` levels, alternately an object under one of `keys` and an array (kept compact, so a
  // failing example stays printable).
  | {
      readonly kind: 'deep';
      readonly depth: number;
      readonly keys: readonly string[];
      readonly inner: JsonText;
    };

function write(value: JsonText): string {
  switch (value.kind) {
    case 'number':
    case 'literal':
      return value.raw;
    case 'string':
      return JSON.stringify(value.value);
    case 'array':
      return `[${value.items.map(write).join(',')}]`;
    case 'object':
      return `{${value.entries.map(([key, item]) => `${JSON.stringify(key)}:${write(item)}`).join(',')}}`;
    case 'deep': {
      let open = '';
      let close = '';
      for (let level = value.depth - 1; level >= 0; level--) {
        const object = level % 2 === 0;
        open += object ? `{${JSON.stringify(value.keys[level % value.keys.length])}:` : '[';
        close = (object ? '}' : ']') + close;
      }
      return `${open}${write(value.inner)}${close}`;
    }
  }
}

const UNSAFE_KEYS = ['__proto__', 'constructor', 'prototype'];
const key = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...UNSAFE_KEYS) },
  { weight: 2, arbitrary: fc.constantFrom('polluted', 'toString', 'valueOf', 'hasOwnProperty', 'length') },
  { weight: 2, arbitrary: fc.constantFrom('args', 'context', 'name', 'times', 'tone', 'loud') },
  { weight: 2, arbitrary: fc.string({ maxLength: 6 }) },
);
const number: fc.Arbitrary<JsonText> = fc
  .oneof(
    fc.constantFrom(
      '1e400',
      '-1e400',
      '1e-400',
      '-0',
      '123456789012345678901234567890',
      '9007199254740993',
      '-9007199254740993',
      '0.1e1',
      '5.0',
      '1',
      '3',
      '0',
    ),
    fc.integer({ min: -10, max: 10 }).map(String),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  )
  .map((raw) => ({ kind: 'number', raw }));
const scalar: fc.Arbitrary<JsonText> = fc.oneof(
  number,
  fc
    .oneof(fc.string({ maxLength: 20 }), fc.constantFrom('', 'plain', 'fancy', 'b1', '__proto__'))
    .map((value) => ({ kind: 'string' as const, value })),
  fc.constantFrom('true', 'false', 'null').map((raw) => ({ kind: 'literal' as const, raw })),
);
const { json } = fc.letrec<{ json: JsonText }>((tie) => ({
  json: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('json'), { maxLength: 4 }).map((items) => ({ kind: 'array' as const, items })),
    fc
      .array(fc.tuple(key, tie('json')), { maxLength: 4 })
      .map((entries) => ({ kind: 'object' as const, entries })),
  ),
}));
/** A value nested inside `depth` arrays or objects, each level under a key that may be `__proto__`. */
const deep: fc.Arbitrary<JsonText> = fc
  .tuple(fc.integer({ min: 30, max: 3000 }), fc.array(key, { minLength: 1, maxLength: 3 }), scalar)
  .map(([depth, keys, inner]) => ({ kind: 'deep', depth, keys, inner }));
const anyJson = fc.oneof({ weight: 4, arbitrary: json }, { weight: 1, arbitrary: deep });
const objectOf = (entries: fc.Arbitrary<(readonly [string, JsonText])[]>): fc.Arbitrary<JsonText> =>
  entries.map((list) => ({ kind: 'object', entries: list }));
const greetArgs = objectOf(
  fc.array(fc.tuple(fc.constantFrom('name', 'times', 'tone', 'loud', ...UNSAFE_KEYS), anyJson), {
    maxLength: 6,
  }),
);
const executeBody: fc.Arbitrary<JsonText> = fc.oneof(
  objectOf(
    fc.array(
      fc.oneof(
        fc.tuple(fc.constant('args'), fc.oneof(greetArgs, anyJson)),
        fc.tuple(fc.constant('context'), anyJson),
        fc.tuple(key, anyJson),
      ),
      { maxLength: 4 },
    ),
  ),
  anyJson,
);

/** Walks a value the server kept, failing on any key that could reach a prototype. */
function expectNoUnsafeKeys(value: unknown, path = ''): void {
  if (value === null || typeof value !== 'object') return;
  expect([Object.prototype, Array.prototype, null]).toContain(Object.getPrototypeOf(value));
  for (const key of Reflect.ownKeys(value)) {
    expect(UNSAFE_KEYS, `unsafe key at ${path}/${String(key)}`).not.toContain(key);
    expectNoUnsafeKeys((value as Record<string | symbol, unknown>)[key], `${path}/${String(key)}`);
  }
}

async function cancelAll(tasks: readonly { id: string }[]): Promise<void> {
  for (const task of tasks) await server.host.tasks.cancel(task.id).catch(() => undefined);
}

describe('any JSON sent to POST /plugins/:id/execute', () => {
  it('is accepted (202) or refused with a coded 4xx naming the failing body fields, never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('greet', 'count-words', 'slow', 'secret', 'offline', 'nope'),
        fc.constantFrom('alice', 'root'),
        executeBody,
        async (plugin, user, body) => {
          const text = write(body);
          const result = await answer(
            await server.request(user, `/plugins/${plugin}/execute`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: text,
            }),
          );
          if (result.status === 202) {
            expect(result.body.tasks.length).toBeGreaterThan(0);
            for (const task of result.body.tasks) {
              expectNoUnsafeKeys((await server.host.tasks.get(task.id))?.input);
            }
            await cancelAll(result.body.tasks);
            return;
          }
          const parsed = JSON.parse(text) as unknown;
          // The body as a whole, the arguments (`{}` when left out), the context or another key of the envelope.
          const roots = ['/', '/args', '/context'];
          if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
            roots.push(
              ...Object.keys(parsed).map((k) => `/${k.replaceAll('~', '~0').replaceAll('/', '~1')}`),
            );
          }
          expectCodedRefusal(result, roots);
          expectPrototypesUntouched();
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('arguments nested deeper than the host accepts are a 400 naming the argument', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('name', 'times', 'extra', '__proto__'),
        fc.integer({ min: 70, max: 20_000 }),
        async (field, depth) => {
          const nested = `${'['.repeat(depth)}1${']'.repeat(depth)}`;
          const result = await answer(
            await server.request('alice', '/plugins/greet/execute', {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: `{"args":{"name":"Deep","${field}":${nested}}}`,
            }),
          );
          expectCodedRefusal(result, ['/args']);
          expect(result.body.errors.map((e: { path: string }) => e.path)).toContain(`/args/${field}`);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('`__proto__`, `constructor` and `prototype` keys at any depth change no prototype and are not kept', async () => {
    const attempts = [
      '{"args":{"name":"p","__proto__":{"polluted":"yes"}}}',
      '{"args":{"name":"p","constructor":{"prototype":{"polluted":"yes"}}}}',
      '{"args":{"name":"p","extra":{"__proto__":{"polluted":"yes"}}}}',
      '{"args":{"name":"p","extra":[{"constructor":{"prototype":{"polluted":"yes"}}}]}}',
      '{"__proto__":{"polluted":"yes"},"args":{"name":"p"}}',
      '{"args":{"__proto__":{"name":"from the prototype"}}}',
      '{"args":{"name":"p","__proto__":{"toString":"polluted","valueOf":1}}}',
    ];
    for (const body of attempts) {
      const result = await answer(
        await server.request('alice', '/plugins/greet/execute', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        }),
      );
      if (result.status === 202) {
        const record = (await server.host.tasks.get(result.body.tasks[0].id))!;
        expectNoUnsafeKeys(record.input);
        expect((record.input as { name: string }).name).toBe('p');
        await cancelAll(result.body.tasks);
      } else {
        expectCodedRefusal(result);
        // `name` hidden behind `__proto__` is not an argument: it is reported missing.
        if (body.includes('from the prototype')) {
          expect(result.body.errors).toContainEqual({ path: '/args/name', message: 'is required' });
        }
      }
      expectPrototypesUntouched();
    }
    const fresh: Record<string, unknown> = {};
    expect(fresh.polluted).toBeUndefined();
    expect(String(fresh)).toBe('[object Object]');
  });

  it('any bytes under any content type or encoding are a coded answer, never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          'application/json',
          'application/json; charset=utf-8',
          'application/json; charset=latin1',
          'application/json; charset=utf-16',
          'application/merge-patch+json',
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          '',
        ),
        fc.constantFrom(undefined, 'gzip', 'deflate', 'br', 'identity', 'compress', 'gzip, gzip'),
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          executeBody.map((b) => new TextEncoder().encode(write(b))),
        ),
        async (type, encoding, bytes) => {
          const headers: Record<string, string> = {};
          if (type) headers['content-type'] = type;
          if (encoding) headers['content-encoding'] = encoding;
          const result = await answer(
            await server.request('alice', '/plugins/greet/execute', { method: 'POST', headers, body: bytes }),
          );
          if (result.status === 202) await cancelAll(result.body.tasks);
          else expectCodedRefusal(result);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

class NeverTask extends Task<Record<string, never>> {
  async run() {}
}

/** Refuses its arguments for a reason that concerns no one field. */
class PickyPlugin extends ActionPlugin({ id: 'picky', name: 'Picky', tasks: [NeverTask] }) {
  createTasks(): never {
    throw new PlugboardError('PLUGBOARD_INVALID_ARGUMENTS', 'These arguments cannot be combined.');
  }
}

describe('a plugin that refuses its arguments without naming a field', () => {
  it('is a 400 naming `/args`, so every 400 about arguments names at least one field', async () => {
    const host = await createTestHost({ plugins: [PickyPlugin] });
    const app = express().use('/plugboard', plugboardRouter(host, { getUser: userFromRequest }));
    const listener = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => listener.once('listening', resolve));
    try {
      const { port } = listener.address() as { port: number };
      const response = await fetch(`http://127.0.0.1:${port}/plugboard/plugins/picky/execute`, {
        ...postJson({ args: {} }),
        headers: { 'content-type': 'application/json', 'x-user': 'alice' },
      });
      const problem = await problemOf(response);
      expect(problem).toMatchObject({ status: 400, code: 'PLUGBOARD_INVALID_ARGUMENTS' });
      expect(problem.errors).toEqual([{ path: '/args', message: 'These arguments cannot be combined.' }]);
    } finally {
      listener.closeAllConnections();
      await new Promise((resolve) => listener.close(resolve));
      await host.stop();
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Path parameters.

/** A path segment as a client could send it: encoded text, raw malformed escapes, names of built-ins. */
const segment = fc
  .oneof(
    fc.string({ minLength: 1, maxLength: 40, unit: 'binary' }).map(encodeURIComponent),
    fc.string({ minLength: 1, maxLength: 2000 }).map(encodeURIComponent),
    fc.constantFrom(
      '%',
      '%E0%A4%A',
      '%ZZ',
      '%00',
      '%C0%AF',
      '%FF%FE',
      '%2F',
      '%5C..%5C',
      '__proto__',
      'constructor',
      'prototype',
      'toString',
      'hasOwnProperty',
      'valueOf',
      'greet',
      'nightly',
      'secret',
      '0000nothing',
    ),
  )
  // The URL parser resolves dot segments before the request leaves the client.
  .filter((s) => !/^(\.|%2e){1,2}$/i.test(s));

const ROUTES = [
  { method: 'GET', path: (id: string) => `/plugins/${id}` },
  { method: 'POST', path: (id: string) => `/plugins/${id}/execute`, body: '{"args":{"name":"x"}}' },
  { method: 'POST', path: (id: string) => `/plugins/${id}/disable` },
  { method: 'POST', path: (id: string) => `/plugins/${id}/enable` },
  { method: 'GET', path: (id: string) => `/tasks/${id}` },
  { method: 'GET', path: (id: string) => `/tasks/${id}/logs` },
  { method: 'POST', path: (id: string) => `/tasks/${id}/cancel` },
  { method: 'POST', path: (id: string) => `/schedules/${id}/trigger` },
] as const;

describe('any path parameter', () => {
  it('is answered by the route with a success or a coded 4xx, never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        segment,
        fc.constantFrom('alice', 'root'),
        async (route, id, user) => {
          const init: RequestInit = { method: route.method };
          if ('body' in route) {
            init.body = route.body;
            init.headers = { 'content-type': 'application/json' };
          }
          const result = await answer(await server.request(user, route.path(id), init));
          if (result.status < 300) {
            if (result.body?.tasks) await cancelAll(result.body.tasks);
            return;
          }
          // The only success a raw id can reach is a real plugin or schedule; everything else is refused.
          expectCodedRefusal(result);
        },
      ),
      { numRuns: RUNS },
    );
    // Whatever an administrator switched off by accident comes back on.
    for (const plugin of server.host.plugins.list()) {
      if (plugin.status === 'disabled') await server.host.plugins.enable(plugin.id);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Query strings.

const queryKey = fc.oneof(
  fc.constantFrom('user', 'plugin', 'state', 'limit', 'cursor', 'after'),
  fc.constantFrom('__proto__', 'constructor', 'toString', 'user[]', 'limit[0]', 'state[__proto__]', ''),
  fc.string({ minLength: 1, maxLength: 8 }),
);
const queryValue = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.integer({ min: -10, max: 2000 }).map(String),
  fc.constantFrom(
    'queued',
    'running,succeeded',
    'succeeded,,failed',
    ' queued ',
    'done',
    '',
    '1e2',
    '0x10',
    '-0',
    '+5',
    '99999999999999999999',
    '9007199254740992',
    'alice',
    'bob',
    'root',
    'greet',
    'MDAwMDAwMDAw',
    '!!',
    'X19wcm90b19f',
  ),
);
/** A raw query string: keys and values encoded or not, `&` and `=` in odd places. */
const rawQuery = fc.oneof(
  fc
    .array(fc.tuple(queryKey, queryValue), { maxLength: 6 })
    .map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')),
  fc.string({ maxLength: 60 }).map((text) => text.replaceAll('#', '%23')),
  fc.constantFrom('&&', '=', '=&=', 'limit', 'limit=', 'limit=%', 'cursor=%E0%A4%A', 'a=1&a=2&a=3'),
);

describe('any query string', () => {
  let cursors: string[] = [];
  beforeAll(async () => {
    // Real tasks and real cursors of two users, so paging and filtering have something to work on.
    const ids: string[] = [];
    for (const user of ['alice', 'alice', 'alice', 'bob', 'bob']) {
      const response = await server.request(
        user,
        '/plugins/greet/execute',
        postJson({ args: { name: user } }),
      );
      ids.push((await response.json()).tasks[0].id);
    }
    await Promise.all(ids.map((id) => server.host.tasks.wait(id)));
    cursors = [];
    for (const user of ['alice', 'bob', 'root']) {
      const page = await (await server.request(user, '/tasks?limit=1')).json();
      cursors.push(page.nextCursor);
    }
  });

  it('GET /tasks answers a page or a coded 4xx naming the parameter; a user only ever gets their own tasks', async () => {
    await fc.assert(
      fc.asyncProperty(
        rawQuery,
        fc.option(fc.nat(2)),
        fc.constantFrom('alice', 'bob', 'root'),
        async (query, cursor, user) => {
          const extra = cursor === null ? '' : `&cursor=${cursors[cursor]}`;
          const result = await answer(await server.request(user, `/tasks?${query}${extra}`));
          if (result.status === 200) {
            expect(Array.isArray(result.body.items)).toBe(true);
            expect(result.body.items.length).toBeLessThanOrEqual(500);
            if (user !== 'root') {
              for (const task of result.body.items) expect(task.user.id).toBe(user);
            }
            return;
          }
          expectCodedRefusal(result);
          if (result.status === 403)
            expect(result.body.errors).toEqual([expect.objectContaining({ path: '/user' })]);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('GET /tasks/:id/logs answers lines or a coded 4xx naming `after`, `limit` or the unknown parameter', async () => {
    const id = (await (await server.request('alice', '/tasks?limit=1')).json()).items[0].id;
    await fc.assert(
      fc.asyncProperty(rawQuery, fc.constantFrom('alice', 'bob', 'root'), async (query, user) => {
        const result = await answer(await server.request(user, `/tasks/${id}/logs?${query}`));
        if (result.status === 200) {
          expect(user).not.toBe('bob');
          expect(result.body.items.length).toBeLessThanOrEqual(1000);
          expect(Number.isSafeInteger(result.body.nextAfter)).toBe(true);
          return;
        }
        expectCodedRefusal(result);
      }),
      { numRuns: RUNS },
    );
  });

  it('routes that take no parameters refuse any query with a coded 400 naming each parameter', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/me', '/plugins', '/plugins/greet', '/schedules', '/openapi.json', '/events'),
        rawQuery,
        async (path, query) => {
          const abort = new AbortController();
          const response = await server.request('alice', `${path}?${query}`, { signal: abort.signal });
          if (response.status === 200) {
            // Only an empty query (`?`, `&&`) reaches the route. The query is read as the URL
            // parser sends it: it drops trailing spaces, tabs and newlines before the request leaves.
            const sent = new URL(`http://127.0.0.1${path}?${query}`).search.slice(1);
            expect(Object.keys(parse(sent))).toEqual([]);
            abort.abort();
            await response.body?.cancel().catch(() => undefined);
            return;
          }
          expectCodedRefusal(await answer(response));
        },
      ),
      { numRuns: 100 },
    );
  });
});
