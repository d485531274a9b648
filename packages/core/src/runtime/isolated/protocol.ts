import { describeThrown } from '../../errors.js';
import type { TraceCarrier } from '../../observability/trace-context.js';
import type { LogLevel, PlugboardUser, SpawnOptions } from '../../task.js';

/** What the host asks a worker to run: enough to rebuild the task from its plugin's module. */
export interface RunTaskMessage {
  readonly type: 'run';
  /** The task's id; every later message about the task carries it. */
  readonly id: string;
  /** The module file the plugin class is exported from. */
  readonly module: string;
  /**
   * The module file's modification time when the host loaded it: a worker that finds another one on disk does not
   * run the task (the host's registered version and the file differ, as during development with `watch`).
   */
  readonly moduleVersion: number | null;
  /** Names the plugin version the host registered: a worker that loaded the module for another one loads it anew. */
  readonly registration: number;
  readonly pluginId: string;
  /** The task type's name within its plugin. */
  readonly taskType: string;
  readonly input: unknown;
  readonly attempt: number;
  readonly user: PlugboardUser;
  /** The plugin's resolved App Properties (secrets included: the task needs them; redaction is the host's). */
  readonly properties: unknown;
  /** The attempt's trace context: spans the task starts in the worker are the attempt span's children. */
  readonly trace?: TraceCarrier;
}

/** The host fired the task's signal: cancel, timeout or shutdown. */
export interface AbortTaskMessage {
  readonly type: 'abort';
  readonly id: string;
  readonly code: string;
  readonly message: string;
}

/** The host's answer to a worker's `spawn` or `wait-child` request: the value, or why it failed. */
export type ReplyMessage =
  | {
      readonly type: 'reply';
      readonly id: string;
      readonly request: number;
      readonly ok: true;
      readonly value: unknown;
    }
  | {
      readonly type: 'reply';
      readonly id: string;
      readonly request: number;
      readonly ok: false;
      readonly error: SerializedError;
    };

/** Messages from the host to a worker. */
export type HostToWorkerMessage = RunTaskMessage | AbortTaskMessage | ReplyMessage;

/** The task's `ctx.spawn` and child `wait()` calls, relayed to the host, which answers each with a reply. */
export type ChildRequestMessage =
  | {
      readonly type: 'spawn';
      readonly id: string;
      readonly request: number;
      readonly taskType: string;
      readonly input: unknown;
      readonly options: SpawnOptions;
    }
  | { readonly type: 'wait-child'; readonly id: string; readonly request: number; readonly childId: string };

/** An error as it crosses the boundary: what the host needs to record it. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly stack?: string;
  readonly retryable?: boolean;
}

/** Messages from a worker to the host: the task's `ctx` calls, its end, or a fault of the worker itself. */
export type WorkerToHostMessage =
  /** The worker has loaded its bootstrap and listens. */
  | { readonly type: 'ready' }
  /** The module on disk is not the version the host loaded: the host runs the task itself. */
  | { readonly type: 'stale'; readonly id: string }
  | { readonly type: 'log'; readonly id: string; readonly level: LogLevel; readonly message: string }
  | { readonly type: 'progress'; readonly id: string; readonly percent: number; readonly message?: string }
  | { readonly type: 'status'; readonly id: string; readonly text: string }
  | ChildRequestMessage
  | { readonly type: 'fail'; readonly id: string; readonly reason: string; readonly retryable: boolean }
  | { readonly type: 'end'; readonly id: string; readonly ok: true; readonly result: unknown }
  | { readonly type: 'end'; readonly id: string; readonly ok: false; readonly error: SerializedError }
  /** An exception thrown from a timer or a promise rejected unhandled: the worker is no longer trusted. */
  | {
      readonly type: 'fault';
      readonly kind: 'uncaught-exception' | 'unhandled-rejection';
      readonly error: SerializedError;
    };

/** Reads what the host needs from a thrown value, whatever it is. */
export function serializeError(thrown: unknown): SerializedError {
  try {
    if (thrown instanceof Error) {
      const e = thrown as Error & { code?: unknown; retryable?: unknown };
      const out: {
        name: string;
        message: string;
        code?: string;
        stack?: string;
        retryable?: boolean;
      } = {
        name: typeof e.name === 'string' ? e.name : 'Error',
        message: typeof e.message === 'string' ? e.message : String(e.message),
      };
      if (typeof e.code === 'string') out.code = e.code;
      if (typeof e.stack === 'string') out.stack = e.stack;
      if (typeof e.retryable === 'boolean') out.retryable = e.retryable;
      return out;
    }
    return { name: 'Error', message: describeThrown(thrown) };
  } catch {
    return { name: 'Error', message: 'An unreadable value was thrown.' };
  }
}

/** Rebuilds a thrown value on the host side so the task attempt records it as it would in-process. */
export function deserializeError(error: SerializedError): Error {
  const rebuilt = new Error(error.message) as Error & { code?: string; retryable?: boolean };
  rebuilt.name = error.name;
  if (error.code !== undefined) rebuilt.code = error.code;
  if (error.retryable !== undefined) rebuilt.retryable = error.retryable;
  rebuilt.stack = error.stack ?? `${error.name}: ${error.message}`;
  return rebuilt;
}
