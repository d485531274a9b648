// Plugins shared by the API side and the workers of the BullMQ benchmarks.
import { ActionPlugin, Task, Type } from '@plugboard/core';

class NoopTask extends Task {
  async run() {
    return null;
  }
}

/** A no-op task per execution: measures the runtime's own cost. */
export class NoopPlugin extends ActionPlugin({ id: 'noop', name: 'No-op', tasks: [NoopTask] }) {
  createTasks() {
    return [new NoopTask({})];
  }
}

class WaitTask extends Task {
  async run() {
    await new Promise((resolve) => setTimeout(resolve, this.input.ms));
    return null;
  }
}

/** An I/O-bound task: it waits `ms` without using the CPU, as a task waiting on a disk or a service does. */
export class WaitPlugin extends ActionPlugin({
  id: 'wait',
  name: 'Wait',
  args: Type.Object({ ms: Type.Integer({ minimum: 0 }) }),
  tasks: [WaitTask],
}) {
  createTasks(args) {
    return [new WaitTask({ ms: args.ms })];
  }
}
