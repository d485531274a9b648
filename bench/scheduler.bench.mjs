// The scheduler: CPU used by an idle host holding 10,000 schedules (against an idle host with none), and how
// late firings are when some of those schedules repeat every second.
import { emit, ensureBuilt, percentile, row, size, sleep } from './lib.mjs';

ensureBuilt('core');
const { BackgroundTaskPlugin, Task, createHost } = await import('@plugboard/core');

const SCHEDULES = size(10_000, 1_000);
const IDLE_MS = size(10_000, 1_500);
const FREQUENT = size(100, 20);
const LATENESS_MS = size(10_000, 2_000);

class TickTask extends Task {
  async run() {
    return null;
  }
}

/** Background-task plugin classes; `fire` is called when one of them fires, with its id and the time. */
function schedulePlugins(count, { frequent = 0, onFire = () => {} } = {}) {
  const classes = [];
  for (let i = 0; i < count; i++) {
    const repeats = i < frequent;
    const id = `schedule-${i}`;
    classes.push(
      class extends BackgroundTaskPlugin({
        id,
        name: `Schedule ${i}`,
        // Frequent ones spread their first run over a second; the rest are due tomorrow.
        delaySeconds: repeats ? 0.2 + (i / Math.max(1, frequent)) * 1 : 86_400,
        repeatSeconds: repeats ? 1 : 86_400,
        tasks: [TickTask],
      }) {
        createTasks() {
          onFire(id, Date.now());
          return [new TickTask({})];
        }
      },
    );
  }
  return classes;
}

/** Share of one core the process used while idle for `ms`. */
async function idleCpu(ms) {
  await sleep(200);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(ms);
  const cpu = process.cpuUsage(cpu0);
  return ((cpu.user + cpu.system) / 1000 / (performance.now() - t0)) * 100;
}

const options = { argv: [], env: false };

// An idle host with no schedules: the baseline.
const bare = createHost({ ...options, plugins: { classes: [] } });
await bare.start();
const bareCpu = await idleCpu(IDLE_MS);
await bare.stop();

const idle = createHost({ ...options, plugins: { classes: schedulePlugins(SCHEDULES) } });
await idle.start();
const armed = (await idle.schedules.list()).filter((s) => s.nextRunAt !== null).length;
if (armed !== SCHEDULES) throw new Error(`expected ${SCHEDULES} armed schedules, found ${armed}`);
const idleCpuPct = await idleCpu(IDLE_MS);
await idle.stop();

// Lateness: the same number of schedules, FREQUENT of them firing every second.
const firings = [];
const busy = createHost({
  ...options,
  plugins: {
    classes: schedulePlugins(SCHEDULES, { frequent: FREQUENT, onFire: (id, at) => firings.push({ id, at }) }),
  },
});
await busy.start();
const first = new Map((await busy.schedules.list()).map((s) => [s.id, s.nextRunAt]));
await sleep(LATENESS_MS);
await busy.stop();
const lateness = firings.map(({ id, at }) => {
  const due = first.get(id);
  return at < due ? 0 : (at - due) % 1000;
});

emit([
  row({
    figure: `scheduler: idle CPU with ${SCHEDULES.toLocaleString('en-US')} schedules`,
    value: idleCpuPct,
    unit: '% of a core',
    baseline: 'idle host, no schedules',
    baselineValue: bareCpu,
    ratio: null,
    target: { text: '<= 1% of a core' },
    met: idleCpuPct <= 1,
    notes: `over ${IDLE_MS / 1000} s`,
  }),
  row({
    figure: `scheduler: lateness p99 of firings`,
    value: percentile(lateness, 99),
    unit: 'ms',
    notes: `${lateness.length} firings of ${FREQUENT} schedules repeating every second among ${SCHEDULES.toLocaleString('en-US')}; median ${percentile(lateness, 50)} ms`,
    target: { text: '<= 20 ms' },
    met: percentile(lateness, 99) <= 20,
  }),
]);
