import { createWorker, type PlugboardWorker, type RedisConnection } from '@plugboard/bullmq';
import { plugins } from '../plugins/thumbnails.js';

/** A worker process: the same plugins as the API, taking tasks from the queue. */
export async function startWorker(options: {
  connection: RedisConnection;
  queue: string;
  concurrency: number;
}): Promise<PlugboardWorker> {
  const worker = createWorker({ env: false, argv: [], plugins: { classes: plugins }, ...options });
  await worker.start();
  return worker;
}
