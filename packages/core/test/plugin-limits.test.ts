import {
  ActionPlugin,
  createHost,
  type PluginLimits,
  Task,
  type TaskContext,
  type TaskRecord,
  Type,
} from '@plugboard/core';
import { describe, expect, it } from 'vitest';
import { hostsStartedPerTest, sleep } from './helpers.js';

// Per-plugin limits (concurrency and starts per interval) and the fair share of the runtime's slots between
// plugins, read back from the timestamps the store keeps.

class NapTask extends Task<{ ms: number }> {
  async run(ctx: TaskContext) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, this.input.ms);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(ctx.signal.reason);
      });
    });
    return this.input.ms;
  }
}

/** A plugin whose execution queues `count` naps of `ms` each. */
function napper(id: string, limits?: PluginLimits) {
  return class extends ActionPlugin({
    id,
    name: id,
    args: Type.Object({ count: Type.Integer({ minimum: 1 }), ms: Type.Integer({ minimum: 0 }) }),
    tasks: [NapTask],
    ...(limits ? { limits } : {}),
  }) {
    createTasks(args: { count: number; ms: number }) {
      return Array.from({ length: args.count }, () => new NapTask({ ms: args.ms }));
    }
  };
}

const started = hostsStartedPerTest(2000);

/** The most tasks that ran at the same time, from their start and end times (an end frees the slot first). */
function mostAtOnce(records: readonly TaskRecord[]): number {
  const events = records.flatMap((r) => [
    { at: r.startedAt!, step: 1 },
    { at: r.finishedAt!, step: -1 },
  ]);
  events.sort((a, b) => a.at - b.at || a.step - b.step);
  let now = 0;
  let most = 0;
  for (const event of events) {
    now += event.step;
    most = Math.max(most, now);
  }
  return most;
}

async function allEnded(host: Awaited<ReturnType<typeof started>>, ids: readonly string[]) {
  return Promise.all(ids.map((id) => host.tasks.wait(id)));
}

describe('per-plugin limits', () => {
  it('a plugin with concurrency 2 never runs more than 2 tasks at once, whatever the runtime allows', async () => {
    const host = await started([napper('limited', { concurrency: 2 })], { concurrency: 8 });
    const { tasks } = await host.execute('limited', { count: 8, ms: 30 });
    const ended = await allEnded(
      host,
      tasks.map((t) => t.id),
    );
    expect(ended.every((r) => r.state === 'succeeded')).toBe(true);
    expect(mostAtOnce(ended)).toBe(2);
  });

  it('a queued task held back by its plugin says so, and no longer once it ran', async () => {
    const host = await started([napper('limited', { concurrency: 1 })], { concurrency: 4 });
    const { tasks } = await host.execute('limited', { count: 3, ms: 80 });
    await sleep(20);
    const last = await host.tasks.get(tasks[2]!.id);
    expect(last?.state).toBe('queued');
    expect(last?.waitingReason).toBe('waiting for a slot of plugin limited');
    expect((await host.tasks.get(tasks[0]!.id))?.waitingReason ?? null).toBeNull();
    await allEnded(
      host,
      tasks.map((t) => t.id),
    );
    expect((await host.tasks.get(tasks[2]!.id))?.waitingReason ?? null).toBeNull();
  });

  it("the host's limits override the plugin's own, field by field", async () => {
    const host = await started([napper('limited', { concurrency: 3 })], {
      concurrency: 8,
      limits: { limited: { concurrency: 1 } },
    });
    const { tasks } = await host.execute('limited', { count: 4, ms: 20 });
    const ended = await allEnded(
      host,
      tasks.map((t) => t.id),
    );
    expect(mostAtOnce(ended)).toBe(1);
  });

  it('a plugin limited to 2 starts per interval starts no third task within the interval', async () => {
    const host = await started([napper('paced', { intervalCap: 2, intervalMs: 300 })], { concurrency: 8 });
    const { tasks } = await host.execute('paced', { count: 6, ms: 0 });
    const ended = await allEnded(
      host,
      tasks.map((t) => t.id),
    );
    const starts = ended.map((r) => r.startedAt!).sort((a, b) => a - b);
    for (let i = 2; i < starts.length; i++) expect(starts[i]! - starts[i - 2]!).toBeGreaterThanOrEqual(290);
  });

  it('a cancelled task that waited for its plugin never runs; the others still do', async () => {
    const host = await started([napper('limited', { concurrency: 1 })], { concurrency: 4 });
    const { tasks } = await host.execute('limited', { count: 3, ms: 40 });
    const cancelled = await host.tasks.cancel(tasks[1]!.id);
    expect(cancelled.state).toBe('cancelled');
    expect(cancelled.startedAt).toBeNull();
    const ended = await allEnded(host, [tasks[0]!.id, tasks[2]!.id]);
    expect(ended.map((r) => r.state)).toEqual(['succeeded', 'succeeded']);
    expect(host.runtime.stats()).toEqual({ queued: 0, running: 0 });
  });

  it('counts tasks waiting for their plugin as queued in the runtime stats', async () => {
    const host = await started([napper('limited', { concurrency: 1 })], { concurrency: 4 });
    const { tasks } = await host.execute('limited', { count: 3, ms: 60 });
    await sleep(10);
    expect(host.runtime.stats()).toEqual({ queued: 2, running: 1 });
    await allEnded(
      host,
      tasks.map((t) => t.id),
    );
  });
});

describe('fair share between plugins', () => {
  it('with one plugin flooded, the others start within their share instead of after the flood', async () => {
    const host = await started([napper('flood'), napper('b'), napper('c')], { concurrency: 2 });
    const flood = await host.execute('flood', { count: 60, ms: 15 });
    await sleep(30);
    const b = (await host.execute('b', { count: 1, ms: 15 })).tasks[0]!;
    const c = (await host.execute('c', { count: 1, ms: 15 })).tasks[0]!;
    const [bEnd, cEnd] = await allEnded(host, [b.id, c.id]);
    const floodEnds = await allEnded(
      host,
      flood.tasks.map((t) => t.id),
    );
    for (const other of [bEnd!, cEnd!]) {
      // Flooded tasks that started after the other plugin's task was queued and before it started: at most one
      // per slot, since free slots go to the plugins in turn.
      const overtaking = floodEnds.filter(
        (r) => r.startedAt! > other.createdAt && r.startedAt! < other.startedAt!,
      ).length;
      expect(overtaking).toBeLessThanOrEqual(2);
      expect(floodEnds.some((r) => r.startedAt! > other.startedAt!)).toBe(true);
    }
  });

  it('keeps priorities across plugins: a higher-priority task of another plugin starts next', async () => {
    const host = await started([napper('flood'), napper('urgent')], { concurrency: 1 });
    const flood = await host.execute('flood', { count: 5, ms: 20 });
    const urgent = (await host.execute('urgent', { count: 1, ms: 0 }, { priority: 5 })).tasks[0]!;
    const [end] = await allEnded(host, [urgent.id]);
    const floodEnds = await allEnded(
      host,
      flood.tasks.map((t) => t.id),
    );
    expect(floodEnds.filter((r) => r.startedAt! < end!.startedAt!).length).toBe(1);
  });
});

describe('checking limits', () => {
  it('refuses host limits that are not limits when the host is built', () => {
    expect(() => createHost({ limits: { x: { concurrency: 0 } } })).toThrow(
      expect.objectContaining({ code: 'PLUGBOARD_INVALID_OPTION' }),
    );
    expect(() => createHost({ limits: { x: { intervalMs: 100 } } })).toThrow(/needs `limits.intervalCap`/);
    expect(() => createHost({ limits: { x: { burst: 1 } as PluginLimits } })).toThrow(/is not a limit/);
  });

  it('reports a plugin that declares unusable limits as invalid, with the reason', async () => {
    const host = await started([napper('bad', { concurrency: 1.5 })]);
    const info = host.plugins.list().find((p) => p.id === 'bad');
    expect(info?.status).not.toBe('operational');
    expect(info?.code).toBe('PLUGBOARD_INVALID_PLUGIN');
    expect(info?.reason).toContain('`limits.concurrency` must be an integer >= 1');
  });
});
