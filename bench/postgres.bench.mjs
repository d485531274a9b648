// Throughput of the PostgreSQL store through host.execute, every state change persisted, against the memory store
// measured in the same run; and the cost of sharing: two hosts (as two API processes) on one schema, each
// executing half the tasks, every event relayed to the other, against one host alone on the store.
// Starts a throwaway PostgreSQL cluster (Debian's postgresql, as the store's tests do).
import { createJiti } from 'jiti';
import { compare, emit, ensureBuilt, root, row, size, want } from './lib.mjs';

ensureBuilt('core');
ensureBuilt('postgres');
const { createHost, memoryStore } = await import('@plugboard/core');
const { postgresStore } = await import('@plugboard/postgres');
const jiti = createJiti(import.meta.url);
const { startPostgresServer } = await jiti.import(`${root}test/postgres-server.ts`);

const { CONCURRENCY, IN_FLIGHT, NoopPlugin } = await import('./noop-plugin.mjs');

const perSecond = (count, ms) => (count / ms) * 1000;

async function startHost(store) {
  const host = createHost({ plugins: { classes: [NoopPlugin] }, store, concurrency: CONCURRENCY, argv: [] });
  await host.start();
  return host;
}

/** Executes `count` no-op tasks spread over the hosts, `IN_FLIGHT` callers each, until every host saw every end. */
async function throughHosts(count, stores) {
  const hosts = [];
  for (const store of stores) hosts.push(await startHost(store));
  const user = { id: 'bench', permissions: [] };
  const seen = hosts.map(
    (host) =>
      new Promise((resolve) => {
        let finished = 0;
        host.events.on('task:finished', () => {
          if (++finished === count) resolve();
        });
      }),
  );
  const t0 = performance.now();
  let submitted = 0;
  const caller = (host) => async () => {
    while (submitted < count) {
      submitted++;
      await host.execute('noop', { label: 'run' }, { user });
    }
  };
  await Promise.all(hosts.flatMap((host) => Array.from({ length: IN_FLIGHT / hosts.length }, caller(host))));
  await Promise.all(seen);
  const rate = perSecond(count, performance.now() - t0);
  await Promise.all(hosts.map((host) => host.stop({ timeoutMs: 1000 })));
  return rate;
}

const server = await startPostgresServer();
const rows = [];
let schemas = 0;
const store = () =>
  postgresStore({ connectionString: server.url, schema: `bench_${process.pid}_${++schemas}` });

try {
  if (want('postgres')) {
    const count = size(2_000, 300);
    const r = await compare({
      rounds: size(5, 1),
      candidate: () => throughHosts(count, [store()]),
      baseline: () => throughHosts(count, [memoryStore()]),
    });
    rows.push(
      row({
        figure: 'PostgreSQL store, every state change persisted',
        value: r.candidate,
        unit: 'tasks/s',
        baseline: 'memory store',
        baselineValue: r.baseline,
        ratio: r.candidate / r.baseline,
        notes: `${count} executions a round through host.execute, ${IN_FLIGHT} callers, local server`,
      }),
    );
  }

  if (want('postgres-shared')) {
    const count = size(2_000, 300);
    const r = await compare({
      rounds: size(5, 1),
      candidate: () => {
        const schema = `bench_${process.pid}_${++schemas}`;
        const shared = () => postgresStore({ connectionString: server.url, schema });
        return throughHosts(count, [shared(), shared()]);
      },
      baseline: () => throughHosts(count, [store()]),
    });
    rows.push(
      row({
        figure: 'PostgreSQL store, two API processes on one schema',
        value: r.candidate,
        unit: 'tasks/s',
        baseline: 'one host on the store',
        baselineValue: r.baseline,
        ratio: r.candidate / r.baseline,
        notes: `${count} executions a round split over two hosts; each host receives every task's events`,
      }),
    );
  }
} finally {
  await server.remove();
}

emit(rows);
