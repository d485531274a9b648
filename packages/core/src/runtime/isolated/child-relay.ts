import { PlugboardError } from '../../errors.js';
import {
  type ChildTask,
  isTask,
  type SpawnOptions,
  type Task,
  type TaskContext,
  type TaskRecord,
  taskTypeName,
} from '../../task.js';
import type { ChildByType } from '../child-tasks.js';
import {
  type ChildRequestMessage,
  deserializeError,
  type ReplyMessage,
  serializeError,
  type WorkerToHostMessage,
} from './protocol.js';

/**
 * The worker's side of `ctx.spawn`: a child is built in the worker, sent to the host by type and input, and
 * queued there as any child is; `wait()` asks the host for the child's end.
 */
export class WorkerChildRelay {
  readonly #send: (message: WorkerToHostMessage) => void;
  readonly #pending = new Map<number, { resolve(value: unknown): void; reject(error: unknown): void }>();
  #nextRequest = 0;

  constructor(send: (message: WorkerToHostMessage) => void) {
    this.#send = send;
  }

  /** The `ctx.spawn` of the task `id` running in this worker. */
  spawnFor(id: string): (task: Task<any, any>, options?: SpawnOptions) => Promise<ChildTask> {
    return async (task, options = {}) => {
      if (!isTask(task)) {
        throw new PlugboardError(
          'PLUGBOARD_INVALID_TASKS',
          'ctx.spawn takes a Task instance of a type the plugin lists.',
        );
      }
      const type = taskTypeName(task.constructor as Parameters<typeof taskTypeName>[0]);
      const input = JSON.parse(JSON.stringify(task.input) ?? 'null') as unknown;
      const childId = (await this.#ask({ type: 'spawn', id, taskType: type, input, options })) as string;
      return {
        id: childId,
        wait: async () => (await this.#ask({ type: 'wait-child', id, childId })) as TaskRecord,
      };
    };
  }

  /** Settles the request a reply answers. */
  settle(message: ReplyMessage): void {
    const pending = this.#pending.get(message.request);
    if (!pending) return;
    this.#pending.delete(message.request);
    if (message.ok) pending.resolve(message.value);
    else pending.reject(deserializeError(message.error));
  }

  #ask(message: DistributiveOmit<ChildRequestMessage, 'request'>): Promise<unknown> {
    const request = ++this.#nextRequest;
    return new Promise((resolve, reject) => {
      this.#pending.set(request, { resolve, reject });
      this.#send({ ...message, request } as ChildRequestMessage);
    });
  }
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

/**
 * The host's side: answers a worker's `spawn` and `wait-child` requests through the attempt's own `ctx`, so the
 * child is stored, queued and linked to its parent exactly as one spawned in-process.
 */
export class HostChildRelay {
  readonly #ctx: TaskContext;
  readonly #reply: (message: ReplyMessage) => void;
  /** The children this attempt started: a worker may only wait for its own. */
  readonly #children = new Map<string, ChildTask>();

  constructor(ctx: TaskContext, reply: (message: ReplyMessage) => void) {
    this.#ctx = ctx;
    this.#reply = reply;
  }

  handle(message: ChildRequestMessage): void {
    const { id, request } = message;
    this.#answer(message)
      .then((value) => this.#reply({ type: 'reply', id, request, ok: true, value }))
      .catch((error) => this.#reply({ type: 'reply', id, request, ok: false, error: serializeError(error) }));
  }

  async #answer(message: ChildRequestMessage): Promise<unknown> {
    if (message.type === 'spawn') {
      const byType: ChildByType = { taskType: String(message.taskType), input: message.input };
      // The host's spawn takes the child by type and input: the worker's Task instance cannot cross over.
      const child = await this.#ctx.spawn(byType as unknown as Task, message.options ?? {});
      this.#children.set(child.id, child);
      return child.id;
    }
    const child = this.#children.get(String(message.childId));
    if (!child) {
      throw new PlugboardError(
        'PLUGBOARD_UNKNOWN_TASK',
        `Task \`${this.#ctx.taskId}\` did not start a child \`${String(message.childId).slice(0, 80)}\`.`,
      );
    }
    return child.wait();
  }
}
