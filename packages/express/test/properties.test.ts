import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './helpers.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ bodyLimit: 4096 });
});
afterAll(() => server.close());

interface Answer {
  status: number;
  body: { code?: string; errors?: { path: string; message: string }[]; tasks?: { id: string }[] };
}

async function answer(response: Response): Promise<Answer> {
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

/** A 4xx must be a coded problem; a 400 must name at least one field. */
function expectCodedClientError({ status, body }: Answer): void {
  expect(status).toBeGreaterThanOrEqual(400);
  expect(status).toBeLessThan(500);
  expect(body.code).toMatch(/^PLUGBOARD_[A-Z_]+$/);
  if (status === 400) {
    expect(body.errors!.length).toBeGreaterThan(0);
    for (const error of body.errors!) {
      expect(error.path).toMatch(/^\//);
      expect(error.message.length).toBeGreaterThan(0);
    }
  }
}

const jsonValue = fc.jsonValue({ maxDepth: 3 });
const greetArgs = fc.record(
  {
    name: fc.oneof(fc.string({ maxLength: 20 }), jsonValue),
    times: fc.oneof(fc.integer({ min: -3, max: 8 }), fc.double(), jsonValue),
    tone: fc.oneof(fc.constantFrom('plain', 'fancy', 'rude', ''), jsonValue),
    loud: fc.oneof(fc.boolean(), jsonValue),
  },
  { requiredKeys: [] },
);
// Bodies a user would send, so that the accepted path is exercised as often as the refusals.
const validBody = fc.record({
  args: fc.record(
    {
      name: fc.string({ minLength: 1, maxLength: 20 }),
      times: fc.integer({ min: 1, max: 5 }),
      tone: fc.constantFrom('plain', 'fancy'),
      loud: fc.boolean(),
    },
    { requiredKeys: ['name'] },
  ),
});
const executeBody = fc.oneof(
  validBody,
  fc.record(
    { args: fc.oneof(greetArgs, jsonValue), context: fc.oneof(fc.string(), jsonValue) },
    { requiredKeys: [] },
  ),
  fc.dictionary(fc.string({ maxLength: 8 }), jsonValue, { maxKeys: 4 }),
  jsonValue,
);

describe('any execute body', () => {
  it('is either accepted (202) or refused with a coded 4xx naming the failing fields — never a 500', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(executeBody, async (body) => {
        const result = await answer(
          await server.request('alice', '/plugins/greet/execute', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
          }),
        );
        if (result.status === 202) {
          accepted++;
          expect(result.body.tasks!.length).toBe(1);
          expect(result.body.tasks![0]).toMatchObject({ pluginId: 'greet', user: { id: 'alice' } });
          for (const task of result.body.tasks!)
            await server.host.tasks.cancel(task.id).catch(() => undefined);
        } else expectCodedClientError(result);
      }),
      { numRuns: 150 },
    );
    expect(accepted).toBeGreaterThan(0);
  });

  it('raw bytes that are not JSON are a coded 400, whatever they are', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), async (text) => {
        fc.pre(!isJson(text));
        const result = await answer(
          await server.request('alice', '/plugins/greet/execute', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: text,
          }),
        );
        expectCodedClientError(result);
      }),
      { numRuns: 100 },
    );
  });
});

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

const queryKey = fc.oneof(
  fc.constantFrom('user', 'plugin', 'state', 'limit', 'cursor'),
  fc.string({ minLength: 1, maxLength: 8 }),
);
const queryValue = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.integer({ min: -10, max: 1000 }).map(String),
  fc.constantFrom('queued', 'running,succeeded', 'done', '', 'MDAwMDAwMDAw', '!!', '1e2', '50'),
);

describe('any task query string', () => {
  it('answers 200 with a page or a coded 4xx naming the parameter — never a 500', async () => {
    let pages = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(queryKey, queryValue), { maxLength: 5 }), async (pairs) => {
        const query = new URLSearchParams(pairs).toString();
        const result = await answer(await server.request('alice', `/tasks?${query}`));
        if (result.status !== 200) return expectCodedClientError(result);
        pages++;
        const { items } = result.body as { items: Array<{ user: { id: string } }> };
        const limit = new URLSearchParams(pairs).get('limit');
        expect(items.length).toBeLessThanOrEqual(limit === null ? 50 : Number(limit));
        // alice sees her own tasks only.
        expect(items.filter((t) => t.user.id !== 'alice')).toEqual([]);
      }),
      { numRuns: 200 },
    );
    expect(pages).toBeGreaterThan(0);
  });

  it('the same holds for a task log query', async () => {
    const id = (
      await (
        await server.request('alice', '/plugins/greet/execute', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"args":{"name":"Log"}}',
        })
      ).json()
    ).tasks[0].id;
    await server.host.tasks.wait(id);
    const log = await server.host.tasks.logs(id);
    expect(log.map((entry) => entry.message)).toContain('greeting 1 of 1');
    let pages = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.oneof(fc.constantFrom('after', 'limit'), queryKey), queryValue), {
          maxLength: 4,
        }),
        async (pairs) => {
          const result = await answer(
            await server.request('alice', `/tasks/${id}/logs?${new URLSearchParams(pairs)}`),
          );
          if (result.status !== 200) return expectCodedClientError(result);
          pages++;
          const { items, nextAfter } = result.body as unknown as {
            items: Array<{ seq: number; message: string }>;
            nextAfter: number;
          };
          // A 200 means every parameter was valid: at most one of each, decimal integers in range.
          const given = new URLSearchParams(pairs);
          const after = Number(given.get('after') ?? 0);
          const limit = Number(given.get('limit') ?? 1000);
          const expected = log.filter((entry) => entry.seq > after).slice(0, limit);
          expect(items.map((entry) => entry.seq)).toEqual(expected.map((entry) => entry.seq));
          expect(nextAfter).toBe(expected.at(-1)?.seq ?? after);
        },
      ),
      { numRuns: 150 },
    );
    expect(pages).toBeGreaterThan(0);
  });
});
