// One process of the example: `node src/process.mjs api` or `node src/process.mjs worker`.
// The TypeScript sources (the example's, its plugins' and the workspace packages') load through jiti, so nothing
// needs building. Started by start.mjs, a process also stops when start.mjs goes away.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createJiti } from 'jiti';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const pluginsDir = fileURLToPath(new URL('../plugins/', import.meta.url));
const alias = Object.fromEntries(
  [
    ['@plugboard/core/spi', `${root}packages/core/src/spi.ts`],
    ...['core', 'bullmq', 'http', 'express', 'postgres'].map((name) => [
      `@plugboard/${name}`,
      `${root}packages/${name}/src/index.ts`,
    ]),
  ].filter(([, source]) => existsSync(source)),
);
// The host loads the plugins folder through its own jiti instance, which reads its aliases from JITI_ALIAS.
process.env.JITI_ALIAS = JSON.stringify(alias);
const jiti = createJiti(import.meta.url, { alias });

const role = process.argv[2];
const connection = {
  host: process.env.REDIS_HOST ?? '127.0.0.1',
  port: Number(process.env.REDIS_PORT ?? 6379),
};
const queue = process.env.QUEUE ?? 'thumbnails';

let stop;
if (role === 'api') {
  const { startApi } = await jiti.import('./api.ts');
  const api = await startApi({
    pluginsDir,
    connection,
    queue,
    port: Number(process.env.PORT ?? 3000),
    databaseUrl: process.env.DATABASE_URL || undefined,
  });
  console.log(`api store: ${api.report.store}`);
  for (const plugin of api.report.plugins) console.log(`plugin ${plugin.id}: ${plugin.status}`);
  console.log(`api listening on ${api.url} (monitor page)`);
  stop = () => api.stop();
} else if (role === 'worker') {
  const { startWorker } = await jiti.import('./worker.ts');
  const worker = await startWorker({
    pluginsDir,
    connection,
    queue,
    concurrency: Number(process.env.CONCURRENCY ?? 2),
  });
  console.log(`worker ${process.pid} ready`);
  stop = () => worker.stop({ timeoutMs: 5000 });
} else {
  console.error('usage: node src/process.mjs api|worker');
  process.exit(2);
}

let stopping = false;
function shutdown() {
  if (stopping) return;
  stopping = true;
  stop().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
process.once('SIGTERM', shutdown);
if (process.connected) {
  // Started by start.mjs, which stops the processes in order on Ctrl+C (the terminal sends SIGINT to all of them),
  // and over whose IPC channel a process learns that start.mjs went away without stopping it.
  process.on('SIGINT', () => {});
  process.once('disconnect', shutdown);
} else {
  process.once('SIGINT', shutdown);
}
