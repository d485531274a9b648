/**
 * The code a task worker (a worker thread or a child process) runs: it rebuilds each task it is sent from its
 * plugin's module and runs it, turning the task's `ctx` calls into messages to the host. Loaded from `dist` as
 * `isolated-worker.js`, or from sources through `worker-source.mjs`.
 */
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';
import { parentPort } from 'node:worker_threads';
import { describeThrown, PlugboardError, type PlugboardErrorCode, taskFinishedReason } from '../../errors.js';
import { isPluginClass } from '../../plugin.js';
import { importModule, pluginClassesOf } from '../../plugins/discovery.js';
import { type LogLevel, type TaskContext, type TaskLogger, taskTypeName } from '../../task.js';
import { WorkerChildRelay } from './child-relay.js';
import {
  type HostToWorkerMessage,
  type RunTaskMessage,
  type SerializedError,
  serializeError,
  type WorkerToHostMessage,
} from './protocol.js';

const send: (message: WorkerToHostMessage) => void = parentPort
  ? (message) => parentPort!.postMessage(message)
  : (message) => {
      if (process.connected) process.send!(message);
    };

const children = new WorkerChildRelay(send);

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'critical', 'always'];

/** The task running now: a worker runs one at a time. */
let current: { readonly id: string; readonly controller: AbortController } | undefined;
const modules = new Map<string, Promise<unknown>>();

function fault(kind: 'uncaught-exception' | 'unhandled-rejection', thrown: unknown): void {
  send({ type: 'fault', kind, error: serializeError(thrown) });
}

process.on('uncaughtException', (error) => fault('uncaught-exception', error));
process.on('unhandledRejection', (reason) => fault('unhandled-rejection', reason));
// A child process whose host is gone (killed, crashed) has no one to work for.
if (!parentPort) process.on('disconnect', () => process.exit(0));

let jiti: { import(id: string): Promise<unknown> } | undefined;

/**
 * Imports a plugin module as discovery does (JavaScript natively), except that TypeScript goes through a jiti
 * instance with default-export interop: a plugin's `import Database from 'better-sqlite3'` (a CommonJS package)
 * then gets the package's export, as under Node's own loader. The host's copy may have had such modules loaded
 * for it by the host application's own loader; a worker loads them from scratch.
 */
async function loadPluginModule(file: string, fresh: boolean): Promise<unknown> {
  if (!/\.[cm]?ts$/.test(file)) return importModule(file, fresh ? { folder: dirname(file) } : undefined);
  if (fresh) {
    const cache = createRequire(import.meta.url).cache;
    const folder = dirname(file);
    for (const key of Object.keys(cache)) {
      if (key.startsWith(`${folder}${sep}`) && !key.split(sep).includes('node_modules')) delete cache[key];
    }
  }
  if (!jiti) {
    const { createJiti } = (await import('jiti')) as unknown as {
      createJiti: (url: string, options?: object) => { import(id: string): Promise<unknown> };
    };
    jiti = createJiti(import.meta.url, { moduleCache: true, interopDefault: true });
  }
  return jiti.import(file);
}

function taskClassOf(namespace: unknown, message: RunTaskMessage) {
  const classes = isPluginClass(namespace) ? [namespace] : pluginClassesOf(namespace);
  const plugin = classes.find((cls) => cls.definition.id === message.pluginId);
  const taskClass = plugin?.definition.tasks?.find((cls) => taskTypeName(cls) === message.taskType);
  if (!taskClass) {
    throw new PlugboardError(
      'PLUGBOARD_UNKNOWN_TASK_TYPE',
      `\`${message.module}\` does not export plugin \`${message.pluginId}\` with task type \`${message.taskType}\`: is this the plugin's module?`,
    );
  }
  return taskClass;
}

const ACCESS_FIELDS: Readonly<Record<string, string>> = {
  FileSystemRead: 'access.read',
  FileSystemWrite: 'access.write',
  ChildProcess: 'access.childProcess',
  WorkerThreads: 'access.workers',
};

/** Node's permission model refused something: say what, and where the plugin declares it. */
function accessDenied(thrown: unknown, pluginId: string): SerializedError | undefined {
  const error = thrown as {
    code?: unknown;
    permission?: unknown;
    resource?: unknown;
    stack?: unknown;
  } | null;
  if (error === null || typeof error !== 'object' || error.code !== 'ERR_ACCESS_DENIED') return undefined;
  const permission = String(error.permission ?? 'unknown');
  const field = ACCESS_FIELDS[permission] ?? 'access';
  const resource = typeof error.resource === 'string' ? ` \`${error.resource}\`` : '';
  return {
    name: 'Error',
    code: 'PLUGBOARD_TASK_ACCESS_DENIED',
    message: `The task was refused ${permission}${resource}: plugin \`${pluginId}\` does not declare it in \`${field}\`, or the host did not grant it.`,
    retryable: false,
    ...(typeof error.stack === 'string' ? { stack: error.stack } : {}),
  };
}

function modifiedAt(file: string): number | null {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return null;
  }
}

function toJson(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  return JSON.parse(JSON.stringify(value) ?? 'null');
}

/** Loaded with the first traced task: a worker whose host does not trace never loads OpenTelemetry. */
let tracing: Promise<typeof import('../../observability/trace-context.js')> | undefined;

/** Runs a task under the trace context its message carries. */
async function runTraced(message: RunTaskMessage, run: () => unknown): Promise<unknown> {
  tracing ??= import('../../observability/trace-context.js');
  const { runWithTraceCarrier } = await tracing;
  return runWithTraceCarrier(message.trace, run);
}

async function runTask(message: RunTaskMessage): Promise<void> {
  const id = message.id;
  const controller = new AbortController();
  current = { id, controller };
  try {
    if (message.moduleVersion !== null && modifiedAt(message.module) !== message.moduleVersion) {
      send({ type: 'stale', id });
      return;
    }
    const key = `${message.module}@${message.registration}`;
    let loading = modules.get(key);
    if (!loading) {
      // Another version of the module loaded earlier is evaluated anew, as the host's reload does.
      const reloaded = [...modules.keys()].some((k) => k.startsWith(`${message.module}@`));
      loading = loadPluginModule(message.module, reloaded);
      modules.set(key, loading);
      loading.catch(() => modules.delete(key));
    }
    const taskClass = taskClassOf(await loading, message);
    const task = new taskClass(message.input);
    const log = {} as Record<LogLevel, (text: string) => void>;
    for (const level of LOG_LEVELS) {
      log[level] = (text: unknown) =>
        send({ type: 'log', id, level, message: typeof text === 'string' ? text : describeThrown(text) });
    }
    const ctx: TaskContext = {
      taskId: id,
      pluginId: message.pluginId,
      attempt: message.attempt,
      user: message.user,
      signal: controller.signal,
      log: log as unknown as TaskLogger,
      properties: message.properties as Record<string, unknown>,
      spawn: children.spawnFor(id),
      progress: (percent, text) => {
        if (typeof percent !== 'number') return;
        send(
          text === undefined
            ? { type: 'progress', id, percent }
            : {
                type: 'progress',
                id,
                percent,
                message: typeof text === 'string' ? text : describeThrown(text),
              },
        );
      },
      status: (text) =>
        send({ type: 'status', id, text: typeof text === 'string' ? text : describeThrown(text) }),
      fail: (reason, options) =>
        send({
          type: 'fail',
          id,
          reason: typeof reason === 'string' ? reason : describeThrown(reason),
          retryable: options?.retryable !== false,
        }),
    };
    const result =
      message.trace === undefined ? await task.run(ctx) : await runTraced(message, () => task.run(ctx));
    let json: unknown;
    try {
      json = toJson(result);
    } catch (error) {
      send({
        type: 'end',
        id,
        ok: false,
        error: {
          name: 'Error',
          code: 'PLUGBOARD_TASK_FAILED',
          message: `The task's result is not JSON-serialisable: ${describeThrown(error)}`,
          retryable: false,
        },
      });
      return;
    }
    send({ type: 'end', id, ok: true, result: json });
  } catch (thrown) {
    send({
      type: 'end',
      id,
      ok: false,
      error: accessDenied(thrown, message.pluginId) ?? serializeError(thrown),
    });
  } finally {
    current = undefined;
    if (!controller.signal.aborted) {
      // Work the task started and did not await must learn that its task is over.
      controller.abort(taskFinishedReason());
    }
  }
}

function onMessage(message: HostToWorkerMessage): void {
  if (message.type === 'run') void runTask(message);
  else if (message.type === 'reply') children.settle(message);
  else if (message.type === 'abort' && current?.id === message.id) {
    current.controller.abort(new PlugboardError(message.code as PlugboardErrorCode, message.message));
  }
}

if (parentPort) parentPort.on('message', onMessage);
else process.on('message', (message) => onMessage(message as HostToWorkerMessage));
send({ type: 'ready' });
