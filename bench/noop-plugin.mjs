// The no-op plugin the throughput benchmarks execute (one task that returns at once), and the concurrency and
// number of executes in flight they share. Import it after `ensureBuilt('core')`.
import { ActionPlugin, Task, Type } from '@plugboard/core';

export const CONCURRENCY = 4;
export const IN_FLIGHT = 32;

export class NoopTask extends Task {
  async run() {
    return null;
  }
}

export class NoopPlugin extends ActionPlugin({
  id: 'noop',
  name: 'No-op',
  args: Type.Object({ label: Type.String({ default: 'x', maxLength: 40 }) }),
  tasks: [NoopTask],
}) {
  createTasks() {
    return [new NoopTask({})];
  }
}
