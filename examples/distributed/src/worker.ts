import type { RedisConnection } from '@plugboard/bullmq';
import { createWorker, type PlugboardWorker } from '@plugboard/bullmq';

/** A worker process: it discovers the same plugins as the API and runs the tasks it takes from the queue. */
export async function startWorker(options: {
  readonly pluginsDir: string;
  readonly connection: RedisConnection;
  readonly queue: string;
  readonly concurrency: number;
}): Promise<PlugboardWorker> {
  const worker = createWorker({
    env: false,
    argv: [],
    plugins: { dirs: [options.pluginsDir] },
    connection: options.connection,
    queue: options.queue,
    concurrency: options.concurrency,
  });
  await worker.start();
  return worker;
}
