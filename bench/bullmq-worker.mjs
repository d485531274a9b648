// A worker process of the BullMQ benchmarks. `plugboard` runs createWorker with the shared plugins; `bare` runs a
// plain BullMQ Worker with a no-op processor. Options arrive as JSON in argv[3]; prints `ready` once it takes
// jobs and stops on SIGTERM or when its parent goes away.
const [mode, json] = process.argv.slice(2);
const { port, queue, concurrency } = JSON.parse(json);
const connection = { host: '127.0.0.1', port, maxRetriesPerRequest: null };
let stop;
if (mode === 'plugboard') {
  const { createWorker } = await import('@plugboard/bullmq');
  const { NoopPlugin, WaitPlugin } = await import('./bullmq-plugins.mjs');
  const worker = createWorker({
    plugins: { classes: [NoopPlugin, WaitPlugin] },
    connection: { host: '127.0.0.1', port },
    queue,
    concurrency,
    argv: [],
    env: false,
  });
  await worker.start();
  stop = () => worker.stop({ timeoutMs: 2000 });
} else {
  const { Worker } = await import('bullmq');
  const worker = new Worker(queue, async () => null, {
    connection,
    concurrency,
    // What the runtime keeps of finished jobs by default, as the jobs the benchmark adds ask too.
    removeOnComplete: { age: 86_400, count: 10_000 },
    removeOnFail: { age: 86_400, count: 10_000 },
  });
  await worker.waitUntilReady();
  stop = () => worker.close();
}
process.stdout.write('ready\n');
const exit = () =>
  stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
process.once('SIGTERM', exit);
process.once('disconnect', exit);
