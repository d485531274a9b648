// Plugins of the isolation benchmark: workers import them from this module (`isolation.modules`).
import { ActionPlugin, Task } from '@plugboard/core';

// The system's monotonic clock, in ms: the same in every thread and process of the machine, where each process's
// `performance.timeOrigin` is read from the wall clock at its start and may be off by a fraction of a millisecond.
export const now = () => Number(process.hrtime.bigint()) / 1e6;

class NoopTask extends Task {
  async run() {
    return now();
  }
}

/** Computes for one millisecond. */
class CpuTask extends Task {
  run() {
    const end = performance.now() + 1;
    let x = 0;
    while (performance.now() < end) x++;
    return x > 0 ? now() : 0;
  }
}

export class NoopPlugin extends ActionPlugin({ id: 'noop', name: 'No-op', tasks: [NoopTask] }) {
  createTasks() {
    return new NoopTask({});
  }
}

export class CpuPlugin extends ActionPlugin({ id: 'cpu', name: '1 ms of CPU', tasks: [CpuTask] }) {
  createTasks() {
    return new CpuTask({});
  }
}
