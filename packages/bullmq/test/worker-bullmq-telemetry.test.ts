import { randomUUID } from 'node:crypto';
import { createWorker } from '@plugboard/bullmq';
import type { Telemetry } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRedis } from '../../../test/requirements.js';
import { NapPlugin } from './fixtures/plugins.js';
import { bullmqFleet } from './helpers.js';
import { startRedisServer, type TestRedisServer } from './redis-server.js';

const redisHere = hasRedis('packages/bullmq/test/worker-bullmq-telemetry.test.ts');

let redis: TestRedisServer;
beforeAll(async () => {
  if (redisHere) redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});
const fleet = bullmqFleet(() => redis.connection, 500);

/** A Telemetry (the interface `bullmq-otel` implements) that keeps the names of the spans BullMQ starts. */
function recordingTelemetry(): { telemetry: Telemetry; spans: string[] } {
  const spans: string[] = [];
  const span = {
    setSpanOnContext: (context: unknown) => context,
    setAttribute: () => {},
    setAttributes: () => {},
    addEvent: () => {},
    recordException: () => {},
    end: () => {},
  };
  const telemetry: Telemetry = {
    tracer: {
      startSpan(name: string) {
        spans.push(name);
        return span;
      },
    },
    contextManager: {
      with: (_context, fn) => fn(),
      active: () => ({}),
      getMetadata: () => '',
      fromMetadata: (context: unknown) => context,
    },
  };
  return { telemetry, spans };
}

describe.skipIf(!redisHere)("a worker's BullMQ telemetry", () => {
  it('sees the worker process the jobs of its queue', async () => {
    const queue = `telemetry-${randomUUID()}`;
    const host = await fleet.apiHost({ queue, plugins: [NapPlugin] });
    const { telemetry, spans } = recordingTelemetry();
    const worker = createWorker({
      env: false,
      argv: [],
      plugins: { classes: [NapPlugin] },
      connection: redis.connection,
      queue,
      telemetry,
    });
    await worker.start();
    try {
      const task = (await host.execute('nap', { ms: 10 })).tasks[0]!;
      expect((await host.tasks.wait(task.id)).state).toBe('succeeded');
      expect(spans).toContain(`process ${queue}`);
    } finally {
      await worker.stop({ timeoutMs: 500 });
    }
  });
});
