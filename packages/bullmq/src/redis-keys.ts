/** The Redis keys and channel Plugboard keeps beside one BullMQ queue, under the queue's own key prefix. */
export interface PlugboardKeys {
  /** A stream of task updates published by workers (and queued records published by API processes). */
  readonly updates: string;
  /** The pub/sub channel a cancel request is published on; every worker listens. */
  readonly cancelChannel: string;
  /** A hash of task id → last log `seq` written, so a worker recovering a stalled task continues the log. */
  readonly logSeq: string;
  /** A hash of the ids of tasks a worker has started and not finished: a stalled job's next worker finds it there. */
  readonly started: string;
  /** The prefix of the per-plugin slot keys (holders and recent starts) that limits share across workers. */
  readonly slots: string;
  /** A flag that outlives pub/sub: a worker that picks the task up later still sees the cancel request. */
  cancelFlag(taskId: string): string;
}

/** The keys of queue `queue` under BullMQ key prefix `prefix`. */
export function plugboardKeys(prefix: string, queue: string): PlugboardKeys {
  const base = `${prefix}:${queue}:plugboard`;
  return {
    updates: `${base}:updates`,
    cancelChannel: `${base}:cancel`,
    logSeq: `${base}:log-seq`,
    started: `${base}:started`,
    slots: `${base}:slots`,
    cancelFlag: (taskId) => `${base}:cancel:${taskId}`,
  };
}
