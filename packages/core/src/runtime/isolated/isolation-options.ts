import { isAbsolute, resolve } from 'node:path';
import { describeValue, PlugboardError } from '../../errors.js';

/**
 * Where a plugin's tasks run: `'none'` on the host's own event loop and heap, `'thread'` in a worker thread from a
 * pool, `'process'` in a child process from a pool, under Node's permission model.
 */
export type IsolationMode = 'none' | 'thread' | 'process';

/** The isolation modes, weakest first. */
export const ISOLATION_MODES: readonly IsolationMode[] = ['none', 'thread', 'process'];

/**
 * What a plugin's tasks may touch outside their own code when they run in `'process'` mode; Node refuses the rest
 * with `ERR_ACCESS_DENIED`. Relative paths are resolved from the host's `cwd`.
 */
export interface PluginAccess {
  /** Files and folders the tasks read (a folder grants everything under it). @default [] */
  readonly read?: readonly string[];
  /** Files and folders the tasks write. @default [] */
  readonly write?: readonly string[];
  /** Whether the tasks start child processes. @default false */
  readonly childProcess?: boolean;
  /** Whether the tasks start worker threads. @default false */
  readonly workers?: boolean;
}

/** A plugin's access as resolved for one host: absolute paths, every field present. */
export interface ResolvedAccess {
  /** Absolute paths the tasks may read. */
  readonly read: readonly string[];
  /** Absolute paths the tasks may write. */
  readonly write: readonly string[];
  /** Whether the tasks may start child processes. */
  readonly childProcess: boolean;
  /** Whether the tasks may start worker threads. */
  readonly workers: boolean;
}

/** The `isolation` option of `createHost`, in its long form. */
export interface HostIsolationOptions {
  /**
   * The mode of plugins whose definition names none and whose module the host knows (discovered from a folder or
   * a package, or named in `modules`).
   * @default 'thread'
   */
  readonly mode?: IsolationMode;
  /**
   * The weakest mode a plugin may run in: a plugin asking for a weaker one runs in this one instead, and a plugin
   * whose module the host does not know cannot run its tasks at all when this is not `'none'`.
   * @default 'none'
   */
  readonly minimum?: IsolationMode;
  /**
   * Module files of plugins passed as classes (`plugins.classes`), by plugin id, so their tasks can be isolated
   * too: a worker imports the module and finds the class there.
   * @example { greet: new URL('./plugins/greet.js', import.meta.url).pathname }
   */
  readonly modules?: Readonly<Record<string, string>>;
  /**
   * How long a task whose signal fired (timeout, cancel, shutdown) may take to end before its worker is ended.
   * @default 1000
   */
  readonly graceMs?: number;
  /**
   * The heap one isolated task may use, in megabytes; a task that needs more fails with
   * `PLUGBOARD_TASK_RESOURCE_LIMIT`.
   * @default 512
   */
  readonly memoryLimitMb?: number;
  /**
   * Idle workers kept per pool once their task ended; more are started when tasks need them.
   * @default 2
   */
  readonly idleWorkers?: number;
  /**
   * The most access the host grants any plugin in `'process'` mode: a declared path outside every path listed here
   * is dropped, and `childProcess` or `workers` stay false unless allowed here. Without it, plugins get what they
   * declare.
   */
  readonly allow?: PluginAccess;
}

/** The `isolation` option as the host uses it: every field checked and present. */
export interface ResolvedIsolationOptions {
  readonly mode: IsolationMode;
  readonly minimum: IsolationMode;
  readonly modules: Readonly<Record<string, string>>;
  readonly graceMs: number;
  readonly memoryLimitMb: number;
  readonly idleWorkers: number;
  readonly allow: ResolvedAccess | undefined;
  /** True when the host set the option: an explicit `'none'` keeps discovered plugins in-process too. */
  readonly explicit: boolean;
}

/** A plugin's isolation as the boot report and `host.plugins.list()` show it. */
export interface PluginIsolation {
  /** The mode its tasks run in. */
  readonly mode: IsolationMode;
  /** Why the mode differs from the one asked for, or `null`. */
  readonly note: string | null;
  /** What the plugin declared it reads, writes and starts (`definition.access`), as resolved paths. */
  readonly declared: ResolvedAccess;
  /** What it is granted in `'process'` mode: the declaration narrowed by the host's `isolation.allow`. */
  readonly granted: ResolvedAccess;
}

const NO_ACCESS: ResolvedAccess = Object.freeze({ read: [], write: [], childProcess: false, workers: false });

/** The rank of a mode: a higher one contains more. */
export function isolationRank(mode: IsolationMode): number {
  return ISOLATION_MODES.indexOf(mode);
}

function checkMode(name: string, value: unknown): IsolationMode | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && (ISOLATION_MODES as readonly string[]).includes(value)) {
    return value as IsolationMode;
  }
  throw new PlugboardError(
    'PLUGBOARD_INVALID_OPTION',
    `Expected \`${name}\` to be one of 'none', 'thread', 'process', got ${describeValue(value)}.`,
  );
}

function checkInteger(name: string, value: unknown, min: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new PlugboardError(
      'PLUGBOARD_INVALID_OPTION',
      `Expected \`${name}\` to be an integer >= ${min}, got ${describeValue(value)}.`,
    );
  }
  return value;
}

/** Checks a declared or allowed access and resolves its paths from `cwd`. */
export function resolveAccess(name: string, value: unknown, cwd: string): ResolvedAccess {
  if (value === undefined) return NO_ACCESS;
  if (value === null || typeof value !== 'object') {
    throw new PlugboardError(
      'PLUGBOARD_INVALID_OPTION',
      `Expected \`${name}\` to be { read?, write?, childProcess?, workers? }, got ${describeValue(value)}.`,
    );
  }
  const access = value as PluginAccess;
  const paths = (field: 'read' | 'write'): string[] => {
    const list = access[field];
    if (list === undefined) return [];
    if (!Array.isArray(list) || !list.every((p) => typeof p === 'string' && p.length > 0)) {
      throw new PlugboardError(
        'PLUGBOARD_INVALID_OPTION',
        `Expected \`${name}.${field}\` to be a list of paths, got ${describeValue(list)}.`,
      );
    }
    return list.map((p: string) => (isAbsolute(p) ? resolve(p) : resolve(cwd, p)));
  };
  const flag = (field: 'childProcess' | 'workers'): boolean => {
    const v = access[field];
    if (v === undefined) return false;
    if (typeof v !== 'boolean') {
      throw new PlugboardError(
        'PLUGBOARD_INVALID_OPTION',
        `Expected \`${name}.${field}\` to be a boolean, got ${describeValue(v)}.`,
      );
    }
    return v;
  };
  return {
    read: paths('read'),
    write: paths('write'),
    childProcess: flag('childProcess'),
    workers: flag('workers'),
  };
}

/** Checks the host's `isolation` option, short or long form. */
export function resolveIsolationOptions(value: unknown, cwd: string): ResolvedIsolationOptions {
  const long: HostIsolationOptions =
    value === undefined
      ? {}
      : typeof value === 'string'
        ? { mode: value as IsolationMode }
        : (value as HostIsolationOptions);
  if (long === null || typeof long !== 'object') {
    throw new PlugboardError(
      'PLUGBOARD_INVALID_OPTION',
      `Expected \`isolation\` to be 'none', 'thread', 'process' or { mode, ... }, got ${describeValue(value)}.`,
    );
  }
  const mode = checkMode(typeof value === 'string' ? 'isolation' : 'isolation.mode', long.mode) ?? 'thread';
  const minimum = checkMode('isolation.minimum', long.minimum) ?? 'none';
  const modules = long.modules ?? {};
  if (modules === null || typeof modules !== 'object') {
    throw new PlugboardError(
      'PLUGBOARD_INVALID_OPTION',
      `Expected \`isolation.modules\` to map plugin ids to module files, got ${describeValue(modules)}.`,
    );
  }
  const resolvedModules: Record<string, string> = {};
  for (const [id, file] of Object.entries(modules)) {
    if (typeof file !== 'string' || file.length === 0) {
      throw new PlugboardError(
        'PLUGBOARD_INVALID_OPTION',
        `Expected \`isolation.modules.${id}\` to be a module file path, got ${describeValue(file)}.`,
      );
    }
    resolvedModules[id] = file.startsWith('file:') ? new URL(file).pathname : resolve(cwd, file);
  }
  return {
    mode,
    minimum,
    modules: resolvedModules,
    graceMs: checkInteger('isolation.graceMs', long.graceMs, 0, 1000),
    memoryLimitMb: checkInteger('isolation.memoryLimitMb', long.memoryLimitMb, 16, 512),
    idleWorkers: checkInteger('isolation.idleWorkers', long.idleWorkers, 0, 2),
    allow: long.allow === undefined ? undefined : resolveAccess('isolation.allow', long.allow, cwd),
    explicit: value !== undefined,
  };
}

function within(path: string, roots: readonly string[]): boolean {
  return roots.some((root) => path === root || path.startsWith(root.endsWith('/') ? root : `${root}/`));
}

/** What a plugin is granted: its declaration, narrowed by what the host allows. */
export function narrowAccess(declared: ResolvedAccess, allow: ResolvedAccess | undefined): ResolvedAccess {
  if (!allow) return declared;
  return {
    read: declared.read.filter((p) => within(p, allow.read) || within(p, allow.write)),
    write: declared.write.filter((p) => within(p, allow.write)),
    childProcess: declared.childProcess && allow.childProcess,
    workers: declared.workers && allow.workers,
  };
}

/** Checks the `isolation` field of a plugin definition. */
export function checkPluginIsolation(pluginId: string, value: unknown): IsolationMode | undefined {
  return checkMode(`isolation of plugin \`${pluginId}\``, value);
}
