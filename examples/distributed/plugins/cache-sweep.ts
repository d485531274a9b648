import { BackgroundTaskPlugin, Task, type TaskContext } from '@plugboard/core';

/** Stands in for periodic housekeeping (removing stale thumbnails): a short wait, logged. */
export class CacheSweepTask extends Task<{ olderThanHours: number }> {
  static override retrySafe = true;
  async run(ctx: TaskContext) {
    ctx.status(`worker ${process.pid}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    ctx.log.info(`removed thumbnails older than ${this.input.olderThanHours} h`);
    return { worker: process.pid };
  }
}

/**
 * A background-task plugin: its schedule is one BullMQ job scheduler however many API processes start, and its
 * tasks run on the workers like any other.
 */
export class CacheSweepPlugin extends BackgroundTaskPlugin({
  id: 'cache-sweep',
  name: 'Sweep the thumbnail cache',
  description: 'Removes stale thumbnails every minute, on whichever worker is free.',
  delaySeconds: 2,
  repeatSeconds: 60,
  tasks: [CacheSweepTask],
}) {
  createTasks() {
    return new CacheSweepTask({ olderThanHours: 24 });
  }
}
