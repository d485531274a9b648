import { randomUUID } from 'node:crypto';
import { bullmqRuntime, createWorker } from '@plugboard/bullmq';
import { describeRuntimeContract } from '@plugboard/testing/contracts';
import { afterAll, beforeAll, describe } from 'vitest';
import { hasRedis } from '../../../test/requirements.js';
import { startRedisServer, type TestRedisServer } from './redis-server.js';

const redisHere = hasRedis('packages/bullmq/test/runtime-contract.test.ts');

let redis: TestRedisServer;
beforeAll(async () => {
  if (redisHere) redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

// One worker beside the API host, in this process but talking to it only through Redis, on a fresh queue per test.
describe.skipIf(!redisHere)('on Redis', () => {
  describeRuntimeContract('bullmq', async ({ plugins, concurrency }) => {
    const queue = `contract-${randomUUID()}`;
    const worker = createWorker({
      plugins: { classes: plugins },
      env: false,
      argv: [],
      connection: redis.connection,
      queue,
      concurrency,
    });
    await worker.start();
    return {
      options: { runtime: bullmqRuntime({ connection: redis.connection, queue }) },
      close: () => worker.stop({ timeoutMs: 200 }),
    };
  });
});
