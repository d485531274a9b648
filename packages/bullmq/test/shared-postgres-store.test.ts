import { randomUUID } from 'node:crypto';
import { postgresStore } from '@plugboard/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgresServer, type TestPostgresServer } from '../../../test/postgres-server.js';
import { hasRedis } from '../../../test/requirements.js';
import { NapPlugin } from './fixtures/plugins.js';
import { bullmqFleet, eventually, finishedCounts } from './helpers.js';
import { startRedisServer, type TestRedisServer } from './redis-server.js';

const redisHere = hasRedis('packages/bullmq/test/shared-postgres-store.test.ts');

let redis: TestRedisServer;
let database: TestPostgresServer;
beforeAll(async () => {
  if (!redisHere) return;
  redis = await startRedisServer();
  database = await startPostgresServer();
});
afterAll(async () => {
  await redis?.stop();
  await database?.remove();
});
const fleet = bullmqFleet(() => redis.connection);

describe.skipIf(!redisHere)('API processes sharing one PostgreSQL store', () => {
  it('keep one history and emit each task event once: the store relays none the update stream delivers', async () => {
    const queue = `shared-store-${randomUUID()}`;
    const schema = `bullmq_${randomUUID().replaceAll('-', '_').slice(0, 20)}`;
    const store = () => postgresStore({ connectionString: database.url, schema, pollIntervalMs: 50 });
    await fleet.worker({ queue, plugins: [NapPlugin] });
    const one = await fleet.apiHost({ queue, plugins: [NapPlugin], store: store() });
    const two = await fleet.apiHost({ queue, plugins: [NapPlugin], store: store() });
    const seenByTwo: string[] = [];
    for (const event of ['task:queued', 'task:started', 'task:progress', 'task:finished'] as const) {
      two.events.on(event, () => seenByTwo.push(event));
    }
    const finishedByOne = finishedCounts(one);
    const finishedByTwo = finishedCounts(two);

    const task = (await one.execute('nap', { ms: 50 })).tasks[0]!;
    const done = await one.tasks.wait(task.id);
    expect(done).toMatchObject({ state: 'succeeded', result: { attempt: 1 } });
    expect(
      await eventually(
        () => two.tasks.get(task.id),
        (r) => r?.state === 'succeeded',
      ),
    ).toEqual(done);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seenByTwo).toEqual(['task:queued', 'task:started', 'task:progress', 'task:finished']);
    expect(finishedByOne.get(task.id)).toBe(1);
    expect(finishedByTwo.get(task.id)).toBe(1);
    expect((await two.tasks.list({})).items.map((t) => t.id)).toEqual([task.id]);
  });
});
