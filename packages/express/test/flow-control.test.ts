import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postJson, problemOf, startServer, type TestServer } from './helpers.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

const greet = (key?: string, name = 'Ada') => {
  const init = postJson({ args: { name } });
  if (key !== undefined) init.headers = { ...init.headers, 'idempotency-key': key };
  return server.request('alice', '/plugins/greet/execute', init);
};

describe('the Idempotency-Key header on POST /plugins/:id/execute', () => {
  it('a repeat answers with the tasks of the first request, marked Idempotent-Replayed', async () => {
    const first = await greet('order-7');
    expect(first.status).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const { tasks } = await first.json();
    const again = await greet('order-7');
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((await again.json()).tasks.map((t: { id: string }) => t.id)).toEqual(
      tasks.map((t: { id: string }) => t.id),
    );
  });

  it('the same key with other arguments is answered 422 with PLUGBOARD_IDEMPOTENCY_KEY_REUSED', async () => {
    expect((await greet('order-8')).status).toBe(202);
    const problem = await problemOf(await greet('order-8', 'Grace'));
    expect(problem).toMatchObject({ status: 422, code: 'PLUGBOARD_IDEMPOTENCY_KEY_REUSED' });
  });

  it('a key that is not printable ASCII is answered 400 with PLUGBOARD_INVALID_IDEMPOTENCY_KEY', async () => {
    const problem = await problemOf(await greet('x'.repeat(256)));
    expect(problem).toMatchObject({ status: 400, code: 'PLUGBOARD_INVALID_IDEMPOTENCY_KEY' });
  });

  it('without the header every request creates its own tasks', async () => {
    const a = await (await greet()).json();
    const b = await (await greet()).json();
    expect(a.tasks[0].id).not.toBe(b.tasks[0].id);
  });

  it('the OpenAPI document describes the header and the 422 answer', async () => {
    const doc = await (await server.request('alice', '/openapi.json')).json();
    const operation = doc.paths['/plugins/greet/execute'].post;
    expect(operation.parameters).toContainEqual(
      expect.objectContaining({ name: 'Idempotency-Key', in: 'header' }),
    );
    expect(operation.responses).toHaveProperty('422');
    expect(doc.components.schemas.Schedule.properties).toMatchObject({
      cron: { type: ['string', 'null'] },
      timeZone: { type: ['string', 'null'] },
    });
  });
});

describe('GET /schedules', () => {
  it('shows the cron expression and time zone of each schedule, null for a delay and repeat one', async () => {
    const { items } = await (await server.request('root', '/schedules')).json();
    expect(items).toContainEqual(
      expect.objectContaining({ id: 'nightly', cron: null, timeZone: null, nextRunAt: expect.any(Number) }),
    );
  });
});
