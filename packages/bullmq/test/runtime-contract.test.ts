import { randomUUID } from 'node:crypto';
import { bullmqRuntime, createWorker } from '@plugboard/bullmq';
import { describeRuntimeContract } from '@plugboard/testing/contracts';
import { afterAll, beforeAll } from 'vitest';
import { startRedisServer, type TestRedisServer } from './redis-server.js';

let redis: TestRedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

// One worker beside the API host, in this process but talking to it only through Redis, on a fresh queue per test.
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
