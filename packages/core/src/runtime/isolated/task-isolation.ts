import { existsSync, realpathSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PlugboardError } from '../../errors.js';
import type { PluginSource } from '../../plugins/discovery.js';
import type { RegisteredPlugin } from '../../plugins/registry.js';
import type { Task, TaskClass, TaskRecord } from '../../task.js';
import type { InstantiatedTask } from '../runtime.js';
import { IsolatedTask } from './isolated-task.js';
import {
  checkPluginIsolation,
  type IsolationMode,
  isolationRank,
  narrowAccess,
  type PluginIsolation,
  type ResolvedAccess,
  type ResolvedIsolationOptions,
  resolveAccess,
  resolveIsolationOptions,
} from './isolation-options.js';
import type { TaskWorkerSpec } from './task-worker.js';
import { WorkerPool, type WorkerPoolStats } from './worker-pool.js';

/** What the host knows about a plugin when it decides where its tasks run. */
export interface IsolationSubject {
  readonly id: string;
  readonly source: PluginSource;
  /** The plugin's definition as the registry read it (`isolation` and `access` are read from it). */
  readonly definition: Readonly<Record<string, unknown>>;
}

/** What the isolation decision reads of a registered plugin. */
export function subjectOf(plugin: RegisteredPlugin): IsolationSubject {
  return { id: plugin.info.id, source: plugin.info.source, definition: plugin.definition };
}

interface Plan extends PluginIsolation {
  /** The module file a worker imports the plugin from; `null` when the host does not know it. */
  readonly module: string | null;
  /** The module file's modification time when the plugin was planned (just after the host loaded it). */
  readonly moduleVersion: number | null;
  /** Counts the plugins planned: a reloaded plugin gets a new number, so workers load its module anew. */
  readonly registration: number;
  /** Why the plugin cannot run its tasks at all under the host's isolation, or `undefined`. */
  readonly refusal?: string;
}

/** The file a worker starts: the built bootstrap in `dist`, or the sources' through jiti. */
function workerEntry(): string {
  const here = import.meta.url;
  return fileURLToPath(
    here.endsWith('.ts') ? new URL('./worker-source.mjs', here) : new URL('./isolated-worker.js', here),
  );
}

/** The folder of the nearest package.json above `from`. */
function packageRoot(from: string): string {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return from;
    dir = parent;
  }
}

/** Every `node_modules` folder Node's resolution visits from `dir` upwards. */
function nodeModulesAbove(dir: string): string[] {
  const out: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    const candidate = join(d, 'node_modules');
    if (existsSync(candidate)) out.push(candidate);
    if (dirname(d) === d) return out;
  }
}

function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function modifiedAt(file: string): number | null {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return null;
  }
}

const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

/**
 * Node options of a child process under the permission model: its own code is readable (the worker's bootstrap,
 * the plugin's folder, the installed packages it imports), plus what the plugin is granted; nothing else.
 */
export function permissionArgs(access: ResolvedAccess, module: string, entry: string): string[] {
  const code = new Set<string>();
  const moduleDir = dirname(module);
  const coreRoot = packageRoot(dirname(entry));
  for (const dir of [moduleDir, coreRoot]) {
    for (const path of [dir, ...nodeModulesAbove(dir)]) {
      code.add(path);
      code.add(real(path));
    }
  }
  const jitiAlias = process.env.JITI_ALIAS;
  if (jitiAlias) {
    // Sources a TypeScript plugin's imports are aliased to (tests and development in a monorepo).
    try {
      for (const target of Object.values(JSON.parse(jitiAlias) as Record<string, string>)) {
        code.add(packageRoot(dirname(target)));
      }
    } catch {
      // A malformed alias list is jiti's to report.
    }
  }
  const args = [
    NODE_MAJOR >= 22 ? '--permission' : '--experimental-permission',
    '--disable-warning=ExperimentalWarning',
  ];
  for (const path of [...code, ...access.read, ...access.write]) args.push(`--allow-fs-read=${path}`);
  for (const path of access.write) args.push(`--allow-fs-write=${path}`);
  if (access.childProcess) args.push('--allow-child-process');
  if (access.workers) args.push('--allow-worker');
  return args;
}

/**
 * Decides where each plugin's tasks run and hands the host the task to run: the plugin's own task for `'none'`,
 * or an {@link IsolatedTask} that runs it in a worker thread or child process from the pool. This is the seam
 * between the host's task attempt (`RuntimeEnvironment.instantiate`) and the isolated runtime.
 */
export class TaskIsolation {
  readonly options: ResolvedIsolationOptions;
  readonly #cwd: string;
  readonly #pool: WorkerPool;
  readonly #entry = workerEntry();
  /** Module files of plugins whose source does not name one (installed packages), by plugin id. */
  readonly #modules = new Map<string, string>();
  readonly #plans = new WeakMap<object, Plan>();
  /** The worker spec of each plan, made with its first task. */
  readonly #specs = new WeakMap<Plan, TaskWorkerSpec>();
  /** The definition each plugin id was last planned from: a new one means the plugin was reloaded. */
  readonly #planned = new Map<string, object>();
  #registrations = 0;

  constructor(option: unknown, cwd: string) {
    this.options = resolveIsolationOptions(option, cwd);
    this.#cwd = cwd;
    this.#pool = new WorkerPool({ idleWorkers: this.options.idleWorkers });
  }

  /** Notes the module file a plugin was loaded from, when its source names a package rather than a file. */
  knowModule(pluginId: string, file: string | undefined): void {
    if (file) this.#modules.set(pluginId, file);
  }

  /** Where a plugin's tasks run and what they may touch; throws a coded error for an invalid declaration. */
  describe(subject: IsolationSubject): Plan {
    const cached = this.#plans.get(subject.definition);
    if (cached) return cached;
    const previous = this.#planned.get(subject.id);
    if (previous && previous !== subject.definition) this.#pool.recycleIdle();
    this.#planned.set(subject.id, subject.definition);
    const plan = { ...this.#plan(subject), registration: ++this.#registrations };
    this.#plans.set(subject.definition, plan);
    return plan;
  }

  #plan(subject: IsolationSubject): Omit<Plan, 'registration'> {
    const options = this.options;
    const asked = checkPluginIsolation(subject.id, subject.definition.isolation);
    const declared = resolveAccess(
      `access of plugin \`${subject.id}\``,
      subject.definition.access,
      this.#cwd,
    );
    const granted = narrowAccess(declared, options.allow);
    const module =
      options.modules[subject.id] ??
      this.#modules.get(subject.id) ??
      (subject.source.type === 'file' ? subject.source.location : null);
    const advice = `name its module in isolation.modules.${subject.id} to isolate it`;
    let mode: IsolationMode = asked ?? (module === null ? 'none' : options.mode);
    let note: string | null =
      asked === undefined && module === null && options.mode !== 'none'
        ? `passed as a class, so its tasks run in-process: ${advice}`
        : null;
    if (isolationRank(mode) < isolationRank(options.minimum)) {
      note = `asked for '${mode}'; the host runs no plugin below '${options.minimum}'`;
      mode = options.minimum;
    }
    if (mode !== 'none' && module === null) {
      if (isolationRank(options.minimum) > 0) {
        return {
          mode,
          note: `passed as a class: ${advice}`,
          declared,
          granted,
          module,
          moduleVersion: null,
          refusal: `Plugin \`${subject.id}\` was passed as a class, so its tasks cannot run in a '${mode}' worker, and the host runs no plugin in-process: ${advice}.`,
        };
      }
      note = `passed as a class, so its tasks run in-process: ${advice}`;
      mode = 'none';
    }
    return {
      mode,
      note,
      declared,
      granted,
      module,
      moduleVersion: module === null ? null : modifiedAt(module),
    };
  }

  /** The task an attempt runs: the plugin's own in `'none'` mode, a stand-in that runs it in a worker otherwise. */
  instantiate(
    record: TaskRecord,
    subject: IsolationSubject,
    taskClass: TaskClass,
    context: Omit<InstantiatedTask, 'task'>,
  ): InstantiatedTask {
    const plan = this.describe(subject);
    if (plan.refusal) throw new PlugboardError('PLUGBOARD_ISOLATION_UNAVAILABLE', plan.refusal);
    if (plan.mode === 'none' || plan.module === null) {
      return { ...context, task: new taskClass(record.input) };
    }
    // One spec per plan: the pool keys its idle workers by it, and a process's permission flags are worked out once.
    let spec = this.#specs.get(plan);
    if (spec === undefined) {
      spec = {
        mode: plan.mode,
        entry: this.#entry,
        memoryLimitMb: this.options.memoryLimitMb,
        execArgv: plan.mode === 'process' ? permissionArgs(plan.granted, plan.module, this.#entry) : [],
      };
      this.#specs.set(plan, spec);
    }
    const task: Task<unknown, unknown> = new IsolatedTask(record.input, {
      pool: this.#pool,
      spec,
      module: plan.module,
      taskType: record.taskType.slice(record.pluginId.length + 1),
      graceMs: this.options.graceMs,
      moduleVersion: plan.moduleVersion,
      registration: plan.registration,
      inProcess: () => new taskClass(record.input),
    });
    // Readers of the task's type (a retry-safe check after a crash) see the plugin's class, not the stand-in.
    Object.defineProperty(task, 'constructor', { value: taskClass });
    return { ...context, task };
  }

  /** Ends every worker; no thread or process is left behind. */
  close(): Promise<void> {
    return this.#pool.close();
  }

  /** The pool's counts, for monitoring and benchmarks. */
  stats(): WorkerPoolStats {
    return this.#pool.stats();
  }
}
