import { type HostEvents, inProcessRuntime, memoryStore, Task, type TaskRecord } from '@plugboard/core';
import type { RuntimeEnvironment } from '@plugboard/core/spi';
import { taskRecord } from '@plugboard/testing/contracts';
import { EventEmitter } from 'eventemitter3';
import { describe, expect, it } from 'vitest';

// The in-process runtime driven through the service-provider interface alone, as another host would drive it:
// an environment with only the members it must have.

class Doubles extends Task<{ n: number }, number> {
  run() {
    return this.input.n * 2;
  }
}

describe('the in-process runtime on a minimal environment', () => {
  it('runs tasks when the environment declares no plugin limits, children or telemetry', async () => {
    const store = memoryStore();
    await store.open();
    const events = new EventEmitter<HostEvents>();
    const errors: unknown[] = [];
    const env: RuntimeEnvironment = {
      store,
      events,
      instantiate: (record) => ({ task: new Doubles(record.input as { n: number }), properties: {} }),
      retryPolicy: () => undefined,
      now: () => Date.now(),
      logLevel: 'info',
      maxLogLineLength: 1000,
      progressIntervalMs: 100,
      reportError: (error) => errors.push(error),
      fireSchedule: async () => {
        throw new Error('no schedules here');
      },
    };
    const runtime = inProcessRuntime({ concurrency: 2 });
    await runtime.start(env);
    const records = [1, 2, 3].map((n) =>
      taskRecord({ pluginId: 'doubles', taskType: 'doubles/Doubles', input: { n } }),
    );
    const ended: TaskRecord[] = [];
    const allEnded = new Promise<void>((resolve) =>
      events.on('task:finished', (record) => {
        ended.push(record);
        if (ended.length === records.length) resolve();
      }),
    );
    for (const record of records) {
      await store.insertTask(record);
      await runtime.enqueue(record);
    }
    await allEnded;
    await runtime.stop({ timeoutMs: 100 });
    expect(ended.map((r) => [r.state, r.result]).sort()).toEqual([
      ['succeeded', 2],
      ['succeeded', 4],
      ['succeeded', 6],
    ]);
    expect(errors).toEqual([]);
    expect(runtime.stats()).toEqual({ queued: 0, running: 0 });
  });
});
