// One process of the example: `node src/process.mjs api` or `node src/process.mjs worker`.
// The TypeScript sources (the example's and the workspace packages') load through jiti, so nothing needs building.
import { fileURLToPath } from 'node:url';
import { createJiti } from 'jiti';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const jiti = createJiti(import.meta.url, {
  alias: {
    '@plugboard/core': `${root}packages/core/src/index.ts`,
    '@plugboard/bullmq': `${root}packages/bullmq/src/index.ts`,
  },
});

const role = process.argv[2];
const connection = {
  host: process.env.REDIS_HOST ?? '127.0.0.1',
  port: Number(process.env.REDIS_PORT ?? 6379),
};
const queue = process.env.QUEUE ?? 'thumbnails';

if (role === 'api') {
  const { startApi } = await jiti.import('./api.ts');
  const api = await startApi({ connection, queue, port: Number(process.env.PORT ?? 3000) });
  console.log(`api listening on http://127.0.0.1:${api.port}`);
  process.once('SIGTERM', () => api.stop().then(() => process.exit(0)));
} else if (role === 'worker') {
  const { startWorker } = await jiti.import('./worker.ts');
  const worker = await startWorker({ connection, queue, concurrency: Number(process.env.CONCURRENCY ?? 2) });
  console.log(`worker ${process.pid} ready`);
  process.once('SIGTERM', () => worker.stop({ timeoutMs: 5000 }).then(() => process.exit(0)));
} else {
  console.error('usage: node src/process.mjs api|worker');
  process.exit(2);
}
