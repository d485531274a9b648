import {
  ActionPlugin,
  createHost,
  type Host,
  Task,
  type TaskContext,
  type TaskRecord,
  Type,
} from '@plugboard/core';
import { sqliteStore } from '@plugboard/sqlite';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { tempDatabaseFolder } from './temp-db.js';

// Per-plugin limits and child tasks on the SQLite store, across a restart.

const folder = tempDatabaseFolder('plugboard-flow-');
afterAll(() => folder.remove());

const hosts: Host[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop({ timeoutMs: 100 })));
});

class Step extends Task<{ ms: number; n: number }> {
  async run(ctx: TaskContext) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, this.input.ms);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(ctx.signal.reason);
      });
    });
    return this.input.n;
  }
}

class Job extends Task<{ steps: number; ms: number }> {
  async run(ctx: TaskContext) {
    const children = [];
    for (let n = 1; n <= this.input.steps; n++)
      children.push(await ctx.spawn(new Step({ ms: this.input.ms, n })));
    const ends = await Promise.all(children.map((child) => child.wait()));
    return ends.reduce((sum, end) => sum + (end.result as number), 0);
  }
}

class Jobs extends ActionPlugin({
  id: 'jobs',
  name: 'Jobs',
  args: Type.Object({ steps: Type.Integer({ minimum: 1 }), ms: Type.Integer({ minimum: 0 }) }),
  tasks: [Job, Step],
  limits: { concurrency: 2 },
}) {
  createTasks(args: { steps: number; ms: number }) {
    return new Job(args);
  }
}

async function start(path: string): Promise<Host> {
  const host = createHost({
    env: false,
    argv: [],
    concurrency: 8,
    store: sqliteStore({ path }),
    plugins: { classes: [Jobs] },
  });
  hosts.push(host);
  await host.start();
  return host;
}

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

describe('flow control on the SQLite store', () => {
  it('a limited parent waits for its children; their links and the limit show in the stored records', async () => {
    const host = await start(folder.file());
    const [parent] = (await host.execute('jobs', { steps: 4, ms: 30 }, { user: { id: 'ann' } })).tasks;
    expect(await host.tasks.wait(parent!.id)).toMatchObject({ state: 'succeeded', result: 10 });
    const children = await host.tasks.children(parent!.id);
    expect(children.map((c) => [c.parentId, c.user.id, c.state, c.waitingReason ?? null])).toEqual(
      Array(4).fill([parent!.id, 'ann', 'succeeded', null]),
    );
    // The parent holds one of the plugin's two slots while it waits: its children ran one at a time.
    expect(mostAtOnce([...children, (await host.tasks.get(parent!.id))!])).toBe(2);
  });

  it('children left queued by a parent interrupted at shutdown are cancelled at the next start, not run', async () => {
    const path = folder.file();
    const first = await start(path);
    const [parent] = (await first.execute('jobs', { steps: 3, ms: 10_000 })).tasks;
    const deadline = Date.now() + 5000;
    while ((await first.tasks.children(parent!.id)).length < 3 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    const waiting = (await first.tasks.children(parent!.id)).filter((c) => c.state === 'queued');
    expect(waiting.length).toBeGreaterThan(0);
    expect(waiting[0]!.waitingReason).toBe('waiting for a slot of plugin jobs');
    await first.stop({ timeoutMs: 0 });

    const second = await start(path);
    expect(second.report?.recovery.orphaned).toBe(waiting.length);
    const children = await second.tasks.children(parent!.id);
    expect((await second.tasks.get(parent!.id))?.state).toBe('interrupted');
    expect(children.every((c) => c.state === 'interrupted' || c.state === 'cancelled')).toBe(true);
    for (const child of children.filter((c) => c.state === 'cancelled'))
      expect(child.error?.code).toBe('PLUGBOARD_PARENT_STOPPED');
    expect(second.runtime.stats()).toEqual({ queued: 0, running: 0 });
  });
});
