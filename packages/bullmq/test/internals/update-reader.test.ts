import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plugboardKeys } from '../../src/redis-keys.js';
import { type TaskUpdate, UPDATE_FIELD } from '../../src/task-update.js';
import { UpdateReader } from '../../src/update-reader.js';
import { startRedisServer, type TestRedisServer } from '../redis-server.js';

let redis: TestRedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

function patch(n: number): TaskUpdate {
  return { type: 'patch', id: `task-${n}`, patch: { progress: n } };
}

describe('the update reader', () => {
  it('applies updates in order, and resyncs once entries it had not read were trimmed from the stream', async () => {
    const keys = plugboardKeys('bull', `reader-${randomUUID()}`);
    const client = new Redis(redis.connection);
    const applied: number[] = [];
    let resyncs = 0;
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const reader = new UpdateReader(
      new Redis({ ...redis.connection, maxRetriesPerRequest: null }),
      keys,
      async (update) => {
        if (update.type !== 'patch') return;
        // The first update holds the reader up while the stream grows and is trimmed behind its back.
        if (applied.length === 0) await held;
        applied.push(update.patch.progress!);
      },
      (error) => {
        throw error;
      },
      async () => {
        resyncs++;
      },
    );
    try {
      await reader.start();
      const add = (n: number) => client.xadd(keys.updates, '*', UPDATE_FIELD, JSON.stringify([patch(n)]));
      await add(0);
      for (let i = 0; i < 100 && applied.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
      // While the reader is held on entry 0, 600 more arrive and all but the last 10 are trimmed unread.
      for (let n = 1; n <= 600; n++) await add(n);
      await client.xtrim(keys.updates, 'MAXLEN', 10);
      release();
      for (let i = 0; i < 200 && applied.at(-1) !== 600; i++) await new Promise((r) => setTimeout(r, 10));
      // Then 30 more, read in time: no second resync.
      for (let n = 601; n <= 630; n++) await add(n);
      for (let i = 0; i < 200 && applied.at(-1) !== 630; i++) await new Promise((r) => setTimeout(r, 10));
    } finally {
      await reader.stop();
      client.disconnect();
    }
    expect(applied).toEqual([0, ...Array.from({ length: 40 }, (_, i) => 591 + i)]);
    expect(resyncs).toBe(1);
  });
});
