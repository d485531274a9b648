import type { TaskRecord } from '@plugboard/core';
import type { RuntimeEnvironment, RuntimeSchedules, TaskRuntime } from '@plugboard/core/spi';

/**
 * The runtime a worker's internal host is given: it runs nothing itself, it only captures the environment the
 * host builds (how to rebuild a task from its type and input, retry policies), which the BullMQ processor uses.
 */
export class WorkerHostRuntime implements TaskRuntime {
  readonly name = 'bullmq-worker';
  /** Tasks live in Redis: the worker's own store never holds any to recover. */
  readonly recoversOwnTasks = true;
  /**
   * Schedules are the API processes': a worker's host validates background-task plugins like any other, but arms
   * no schedule, in Redis or on a timer.
   */
  readonly schedules: RuntimeSchedules = {
    arm: async ({ delaySeconds, repeatSeconds }) => ({ delaySeconds, repeatSeconds, nextRunAt: null }),
  };
  #env: RuntimeEnvironment | undefined;

  /** The environment captured at start. */
  get env(): RuntimeEnvironment | undefined {
    return this.#env;
  }

  async start(env: RuntimeEnvironment): Promise<void> {
    this.#env = env;
  }

  async enqueue(record: TaskRecord): Promise<void> {
    // The worker's host never executes plugins, and its schedules never fire (see `schedules`).
    throw new Error(
      `A worker's host does not queue tasks (task \`${record.id}\`); execute plugins on the API.`,
    );
  }

  async cancel(): Promise<boolean> {
    return false;
  }

  async stop(): Promise<void> {}

  stats(): { queued: number; running: number } {
    return { queued: 0, running: 0 };
  }
}
