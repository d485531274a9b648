import { randomUUID } from 'node:crypto';
import { ActionPlugin, memoryStore, Task, Type } from '@plugboard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRedis } from '../../../test/requirements.js';
import { bullmqFleet } from './helpers.js';
import { startRedisServer, type TestRedisServer } from './redis-server.js';

const redisHere = hasRedis('packages/bullmq/test/idempotency.test.ts');

let redis: TestRedisServer;
beforeAll(async () => {
  if (redisHere) redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

class ChargeTask extends Task<{ order: string }> {
  async run() {
    return { charged: this.input.order };
  }
}

class Charge extends ActionPlugin({
  id: 'charge',
  name: 'Charge',
  args: Type.Object({ order: Type.String() }),
  tasks: [ChargeTask],
}) {
  createTasks(args: { order: string }) {
    return new ChargeTask(args);
  }
}

const fleet = bullmqFleet(() => redis.connection);

describe.skipIf(!redisHere)('idempotent executes on BullMQ', () => {
  it('two API processes on a shared store: a repeat on either returns the first tasks, run once by a worker', async () => {
    const queue = `idempotency-${randomUUID()}`;
    const store = memoryStore();
    await fleet.worker({ queue, plugins: [Charge] });
    const one = await fleet.apiHost({ queue, plugins: [Charge], store });
    const two = await fleet.apiHost({ queue, plugins: [Charge], store });
    const first = await one.execute('charge', { order: 'A-1' }, { idempotencyKey: 'pay-A-1' });
    const done = await one.tasks.wait(first.tasks[0]!.id);
    expect(done).toMatchObject({ state: 'succeeded', result: { charged: 'A-1' } });
    const again = await two.execute('charge', { order: 'A-1' }, { idempotencyKey: 'pay-A-1' });
    expect(again).toMatchObject({ replayed: true, tasks: [{ id: done.id, state: 'succeeded' }] });
    await expect(
      two.execute('charge', { order: 'B-2' }, { idempotencyKey: 'pay-A-1' }),
    ).rejects.toMatchObject({
      code: 'PLUGBOARD_IDEMPOTENCY_KEY_REUSED',
    });
    expect((await one.tasks.list({ plugin: 'charge' })).items).toHaveLength(1);
  });
});
