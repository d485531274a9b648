import { isFinalState, PlugboardError, type TaskRecord } from '@plugboard/core';
import type { RuntimeEnvironment } from '@plugboard/core/spi';
import type { Queue } from 'bullmq';
import { bullmqPriority, completedRecord, type ExecutionSettings, type TaskJobData } from './task-update.js';
import type { UpdatePublisher } from './update-publisher.js';

/** How often a parent waiting for a child asks Redis for the child's job, at first and at most. */
const POLL_FIRST_MS = 20;
const POLL_MAX_MS = 500;
/** Finished child jobs are kept this long for a parent that waits for them, then removed by BullMQ. */
const KEEP_FINISHED_CHILD_S = 24 * 3600;

/**
 * Child tasks started by a task running on a BullMQ worker. A child is a plain job on the same queue (not a BullMQ
 * flow: a parent job that waits for its children in a flow cannot be the job that is running and spawning them,
 * and cancel, retries and crash recovery already work job by job). Its `queued` record goes out on the update
 * stream first, so every API process stores it, linked to its parent, before a worker can start it; the parent's
 * `wait()` reads the child job's result, which is the child's final record.
 */
export class WorkerChildren {
  readonly #queue: Queue<TaskJobData>;
  readonly #publisher: UpdatePublisher;
  readonly #origin: string;

  constructor(queue: Queue<TaskJobData>, publisher: UpdatePublisher, origin: string) {
    this.#queue = queue;
    this.#publisher = publisher;
    this.#origin = origin;
  }

  /** The `spawnChild` and `waitForTask` of a task's environment on this worker. */
  environment(
    base: RuntimeEnvironment,
    settings: ExecutionSettings,
  ): Pick<RuntimeEnvironment, 'spawnChild' | 'waitForTask'> {
    const build = base.buildChild;
    if (!build) return {};
    return {
      spawnChild: async (parent, child, options) => {
        const record = build(parent, child, options);
        this.#publisher.publish({ type: 'queued', origin: this.#origin, record });
        await this.#publisher.flush();
        await this.#queue.add(
          record.taskType,
          { record, settings },
          {
            jobId: record.id,
            priority: bullmqPriority(record.priority),
            attempts: 1,
            removeOnComplete: { age: KEEP_FINISHED_CHILD_S },
            removeOnFail: { age: KEEP_FINISHED_CHILD_S },
          },
        );
        return record;
      },
      waitForTask: (id) => this.#wait(id),
    };
  }

  async #wait(id: string): Promise<TaskRecord> {
    let pause = POLL_FIRST_MS;
    for (;;) {
      const job = await this.#queue.getJob(id);
      if (!job) {
        throw new PlugboardError(
          'PLUGBOARD_UNKNOWN_TASK',
          `The job of child task \`${id}\` is no longer in Redis; read its record from an API process.`,
        );
      }
      const record = completedRecord(job);
      if (record && isFinalState(record.state)) return record;
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(POLL_MAX_MS, pause * 2);
    }
  }
}
