import {
  ActionPlugin,
  createHost,
  inProcessRuntime,
  MemoryTaskStore,
  Task,
  type TaskRecord,
  Type,
} from '@plugboard/core';
import { describeRuntimeContract } from '@plugboard/testing/contracts';
import { describe, expect, it } from 'vitest';

describeRuntimeContract('in-process', ({ concurrency }) => ({
  options: { runtime: inProcessRuntime({ concurrency }) },
}));

/** A memory store whose writes of a task's end take `endWriteMs`, as a busy disk would. */
class SlowEndStore extends MemoryTaskStore {
  readonly endWriteMs: number;
  constructor(endWriteMs: number) {
    super();
    this.endWriteMs = endWriteMs;
  }
  override async updateTask(id: string, patch: Partial<TaskRecord>): Promise<void> {
    if (patch.state === 'succeeded' || patch.state === 'failed') {
      await new Promise((resolve) => setTimeout(resolve, this.endWriteMs));
    }
    return super.updateTask(id, patch);
  }
}

class Quick extends Task<Record<string, never>> {
  async run() {
    return { at: Date.now() };
  }
}

class QuickPlugin extends ActionPlugin({
  id: 'quick',
  name: 'Quick',
  args: Type.Object({}),
  tasks: [Quick],
}) {
  createTasks() {
    return [new Quick({}), new Quick({}), new Quick({})];
  }
}

/** A started host with one task slot, on `store`. */
async function oneSlotOver(store: SlowEndStore) {
  const host = createHost({
    env: false,
    argv: [],
    store,
    concurrency: 1,
    plugins: { classes: [QuickPlugin] },
  });
  await host.start();
  return { store, host };
}

describe('in-process runtime and a slow store', () => {
  it('starts the next task while the end of the last one is being written, and announces each end once written', async () => {
    const { store, host } = await oneSlotOver(new SlowEndStore(150));
    const seen: string[] = [];
    const finished: string[] = [];
    host.events.on('task:started', () => seen.push('started'));
    host.events.on('task:finished', async (record) => {
      seen.push('finished');
      // Announced after the end is in the store.
      finished.push((await store.getTask(record.id))!.state);
    });
    const { tasks } = await host.execute('quick', {});
    await Promise.all(tasks.map((task) => host.tasks.wait(task.id)));
    // One slot, three tasks: all three ran before the first end write (150 ms) was done.
    expect(seen).toEqual(['started', 'started', 'started', 'finished', 'finished', 'finished']);
    expect(finished).toEqual(['succeeded', 'succeeded', 'succeeded']);
    await host.stop({ timeoutMs: 1000 });
  });

  it('stop waits for ends still being written, so none is lost', async () => {
    const { store, host } = await oneSlotOver(new SlowEndStore(200));
    const started = new Promise<void>((resolve) => host.events.once('task:started', () => resolve()));
    const { tasks } = await host.execute('quick', {});
    await started;
    await new Promise((resolve) => setTimeout(resolve, 20));
    await host.stop({ timeoutMs: 1000 });
    const states = await Promise.all(tasks.map(async (task) => (await store.getTask(task.id))?.state));
    // The ones that ran are recorded succeeded; none is left `running`.
    expect(states).not.toContain('running');
    expect(states.filter((state) => state === 'succeeded').length).toBeGreaterThanOrEqual(1);
  });
});
