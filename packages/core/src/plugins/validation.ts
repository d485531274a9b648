import type { TObject } from 'typebox';
import { describeThrown, PlugboardError } from '../errors.js';
import {
  type BackgroundScheduleOptions,
  bindPlugin,
  type PluginBase,
  type PluginClass,
  type PluginKind,
  type PluginPoint,
} from '../plugin.js';
import { pluginLimitsProblem } from '../runtime/plugin-limits.js';

import { scheduleProblem } from '../schedules/schedule-options.js';
import { checkObjectSchema, compileObjectValidator, formatFieldErrors, toJsonSchema } from '../schema.js';
import { secretRedactor, secretValuesOf, withoutSecretExamples } from '../secrets.js';
import { isTaskClass, type TaskClass, taskTypeName } from '../task.js';
import { MAX_TIMER_MS } from '../timers.js';
import { isValidRange, PLUGBOARD_VERSION, satisfiesRange } from '../version.js';
import type { PluginSource } from './discovery.js';
import type { FlagParser, PropertyResolver } from './properties.js';
import type { PluginInfo, RegisteredPlugin } from './registry.js';

/** What validating a plugin class reads besides the class: the host's property values and start-up flags. */
export interface PluginValidationSources {
  /** App property values, as loaded at start. */
  readonly properties: PropertyResolver;
  /** Start-up flags of the plugins being validated. */
  readonly flags: FlagParser;
}

const EMPTY_OBJECT: TObject = { type: 'object', properties: {}, required: [] } as unknown as TObject;
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** The most attempts a task type's retry policy may ask for. */
const MAX_RETRY_ATTEMPTS = 100;
const TEXT_FIELDS = ['name', 'description', 'icon', 'category', 'sortGroup', 'version'] as const;

function defaultsFor(kind: PluginKind, def: Record<string, unknown>): BackgroundScheduleOptions | null {
  if (kind !== 'background') return null;
  const cron = def.cron === undefined ? null : (def.cron as string);
  return {
    delaySeconds: (def.delaySeconds as number | undefined) ?? (cron === null ? 30 : 0),
    repeatSeconds: (def.repeatSeconds as number | undefined) ?? 0,
    replaceExistingTasks: (def.replaceExistingTasks as boolean | undefined) ?? true,
    cron,
    timeZone: cron === null ? null : ((def.timeZone as string | undefined) ?? 'UTC'),
  };
}

function describeId(id: unknown): string {
  return typeof id === 'string' ? JSON.stringify(id.slice(0, 80)) : String(typeof id);
}

function className(cls: unknown): string {
  try {
    const name = (cls as { name?: unknown }).name;
    return typeof name === 'string' && name.length > 0 ? name.slice(0, 80) : '(anonymous class)';
  } catch {
    return '(anonymous class)';
  }
}

/** Whether `value` is a usable timer length in milliseconds: a finite number from 1 to the timer maximum. */
function isDuration(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value >= 1 && value <= MAX_TIMER_MS;
}

/** Why a plugin's metadata or timeouts are unusable, or `undefined` when they are fine. */
function definitionProblem(def: Record<string, unknown>): string | undefined {
  for (const key of TEXT_FIELDS) {
    if (def[key] !== undefined && typeof def[key] !== 'string')
      return `\`${key}\` must be a string, got ${typeof def[key]}`;
  }
  if (def.sortOrder !== undefined && !(typeof def.sortOrder === 'number' && Number.isFinite(def.sortOrder)))
    return '`sortOrder` must be a finite number';
  if (
    def.permissions !== undefined &&
    !(Array.isArray(def.permissions) && def.permissions.every((p) => typeof p === 'string'))
  )
    return '`permissions` must be an array of strings';
  const limits = pluginLimitsProblem(def.limits);
  if (limits !== undefined) return limits;
  for (const key of ['timeoutMs', 'readinessTimeoutMs'] as const) {
    if (def[key] !== undefined && !isDuration(def[key]))
      return `\`${key}\` must be a number of milliseconds from 1 to ${MAX_TIMER_MS}, got ${describeId(typeof def[key] === 'number' ? String(def[key]) : def[key])}`;
  }
  return undefined;
}

/** Why a task class's timeout or retry policy is unusable, or `undefined` when they are fine. */
function taskClassProblem(cls: TaskClass): string | undefined {
  const name = taskTypeName(cls);
  if (typeof name !== 'string' || name.length === 0)
    return 'a task class needs a name or a `static taskType`';
  if (cls.timeoutMs !== undefined && cls.timeoutMs !== null && !isDuration(cls.timeoutMs))
    return `task \`${name}\`: \`timeoutMs\` must be a number of milliseconds from 1 to ${MAX_TIMER_MS}`;
  const retry = cls.retry as unknown;
  if (retry === undefined) return undefined;
  if (retry === null || typeof retry !== 'object') return `task \`${name}\`: \`retry\` must be an object`;
  const { attempts, backoff } = retry as { attempts?: unknown; backoff?: unknown };
  if (
    !(Number.isInteger(attempts) && (attempts as number) >= 1 && (attempts as number) <= MAX_RETRY_ATTEMPTS)
  )
    return `task \`${name}\`: \`retry.attempts\` must be an integer from 1 to ${MAX_RETRY_ATTEMPTS}`;
  if (backoff === undefined) return undefined;
  const { type, delayMs } = (backoff ?? {}) as { type?: unknown; delayMs?: unknown };
  if (
    backoff === null ||
    (type !== 'fixed' && type !== 'exponential') ||
    !(typeof delayMs === 'number' && Number.isFinite(delayMs) && delayMs >= 0 && delayMs <= MAX_TIMER_MS)
  )
    return `task \`${name}\`: \`retry.backoff\` must be { type: 'fixed' | 'exponential', delayMs } with delayMs from 0 to ${MAX_TIMER_MS}`;
  return undefined;
}

/**
 * Queries a plugin class and validates it: id, schemas, host version, tasks, points, properties and flags, then
 * builds the instance. Returns the plugin in whatever state validation left it (`checking` when it passed), or an
 * error instead of throwing when the class is unusable before it has an id or its id is `taken` already.
 */
export function validatePluginClass(
  cls: PluginClass,
  source: PluginSource,
  loadMs: number,
  deps: PluginValidationSources,
  taken: (id: string) => RegisteredPlugin | undefined,
): {
  /** The validated plugin, in whatever state validation left it. */
  plugin?: RegisteredPlugin;
  /** Why the class could not be registered at all (a bad or duplicate id). */
  error?: PlugboardError;
} {
  const started = performance.now();
  const name = className(cls);
  let def: Record<string, unknown>;
  let kind: PluginKind;
  let context: PluginClass['contextKind'];
  try {
    // Read once: a hostile class may define getters that throw or answer differently each time.
    const definition: unknown = cls.definition;
    if (definition === null || typeof definition !== 'object') throw new Error('it is not an object');
    def = { ...(definition as Record<string, unknown>) };
    kind = cls.pluginKind;
    context = cls.contextKind;
  } catch (error) {
    return {
      error: new PlugboardError(
        'PLUGBOARD_INVALID_PLUGIN',
        `The definition of plugin class \`${name}\` cannot be read: ${describeThrown(error)}.`,
        { cause: error },
      ),
    };
  }
  const id = def.id;
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    return {
      error: new PlugboardError(
        'PLUGBOARD_INVALID_PLUGIN',
        `Plugin class \`${name}\` has an invalid id ${describeId(id)}: use 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit.`,
      ),
    };
  }
  const existing = taken(id);
  if (existing) {
    return {
      error: new PlugboardError(
        'PLUGBOARD_DUPLICATE_PLUGIN_ID',
        `Plugin id \`${id}\` of \`${name}\` (${source.location}) is already used by \`${className(existing.cls)}\` (${existing.info.source.location}); the first one was kept. Give each plugin its own id.`,
        { details: { id } },
      ),
    };
  }
  const metadataProblem = definitionProblem(def);
  const text = (key: (typeof TEXT_FIELDS)[number]) => (typeof def[key] === 'string' ? def[key] : null);
  const info: PluginInfo = {
    id,
    name: typeof def.name === 'string' && def.name.length > 0 ? def.name : id,
    description: text('description'),
    icon: text('icon'),
    category: text('category'),
    sortGroup: text('sortGroup'),
    sortOrder: typeof def.sortOrder === 'number' && Number.isFinite(def.sortOrder) ? def.sortOrder : 0,
    version: text('version'),
    permissions: Array.isArray(def.permissions)
      ? def.permissions.filter((p): p is string => typeof p === 'string')
      : [],
    kind,
    context: context
      ? { kind: context.id, idArgument: context.idArgument, description: context.description ?? null }
      : null,
    schedule: defaultsFor(kind, def),
    implements: Array.isArray(def.implements)
      ? (def.implements as PluginPoint<unknown>[]).map((p) => String(p?.id))
      : [],
    status: 'checking',
    reason: null,
    code: null,
    source,
    schemas: {
      args: toJsonSchema(EMPTY_OBJECT),
      properties: toJsonSchema(EMPTY_OBJECT),
      flags: toJsonSchema(EMPTY_OBJECT),
    },
    timings: { loadMs, validateMs: 0, readinessMs: 0 },
  };
  const plugin: RegisteredPlugin = {
    info,
    cls,
    definition: def,
    instance: undefined,
    argsValidator: undefined,
    properties: {},
    secrets: [],
    redactor: secretRedactor(undefined),
    taskTypes: new Map(),
  };
  let problem: PlugboardError | undefined;
  if (metadataProblem) {
    problem = new PlugboardError('PLUGBOARD_INVALID_PLUGIN', `Plugin \`${id}\`: ${metadataProblem}.`);
  } else {
    try {
      problem = validateDefinition(plugin, def, deps);
    } catch (error) {
      // Validation reads what the plugin declared (schemas, task classes, points): anything it throws is the plugin's.
      problem = new PlugboardError(
        'PLUGBOARD_INVALID_PLUGIN',
        `Validating plugin \`${id}\` failed: ${describeThrown(error)}.`,
        { cause: error },
      );
    }
  }
  plugin.info = {
    ...plugin.info,
    timings: { ...plugin.info.timings, validateMs: performance.now() - started },
  };
  if (problem) {
    plugin.info = {
      ...plugin.info,
      status: problem.code === 'PLUGBOARD_PLUGIN_CONSTRUCT_FAILED' ? 'failed' : 'invalid',
      reason: plugin.redactor.text(problem.message),
      code: problem.code,
    };
  }
  return { plugin };
}

/** Checks what the definition declares and builds the instance; returns the first problem found. */
function validateDefinition(
  plugin: RegisteredPlugin,
  def: Record<string, unknown>,
  deps: PluginValidationSources,
): PlugboardError | undefined {
  const { id } = plugin.info;
  const schemas: Record<'args' | 'properties' | 'flags', TObject> = {
    args: EMPTY_OBJECT,
    properties: EMPTY_OBJECT,
    flags: EMPTY_OBJECT,
  };
  for (const key of ['args', 'properties', 'flags'] as const) {
    const schema = def[key];
    if (schema === undefined) continue;
    const problems = checkObjectSchema(schema);
    if (problems.length > 0) {
      return new PlugboardError(
        'PLUGBOARD_INVALID_SCHEMA',
        `The \`${key}\` schema of plugin \`${id}\` is not usable: ${problems.join('; ')}. Declare it with Type.Object({...}).`,
      );
    }
    schemas[key] = schema as TObject;
  }
  try {
    plugin.info = {
      ...plugin.info,
      schemas: {
        args: toJsonSchema(schemas.args),
        properties: withoutSecretExamples(toJsonSchema(schemas.properties)),
        flags: toJsonSchema(schemas.flags),
      },
    };
  } catch (error) {
    return new PlugboardError(
      'PLUGBOARD_INVALID_SCHEMA',
      `The schemas of plugin \`${id}\` cannot be written as JSON: ${describeThrown(error)}. Declare them with Type.Object({...}).`,
      { cause: error },
    );
  }
  try {
    plugin.argsValidator = compileObjectValidator(schemas.args);
  } catch (error) {
    return new PlugboardError(
      'PLUGBOARD_INVALID_SCHEMA',
      `The \`args\` schema of plugin \`${id}\` does not compile: ${describeThrown(error)}.`,
      { cause: error },
    );
  }
  if (def.hostVersion !== undefined) {
    const range = def.hostVersion;
    if (typeof range !== 'string' || !isValidRange(range)) {
      return new PlugboardError(
        'PLUGBOARD_INVALID_PLUGIN',
        `Plugin \`${id}\` declares hostVersion ${describeId(range)}, which is not a semver range such as "^0.1.0".`,
      );
    }
    if (!satisfiesRange(PLUGBOARD_VERSION, range)) {
      return new PlugboardError(
        'PLUGBOARD_HOST_VERSION_MISMATCH',
        `Plugin \`${id}\` needs @plugboard/core ${range}, but this host runs ${PLUGBOARD_VERSION}. Upgrade the host or install a plugin version made for it.`,
      );
    }
  }
  if (plugin.info.kind === 'background') {
    const problem = scheduleProblem(def);
    if (problem) return new PlugboardError('PLUGBOARD_INVALID_SCHEDULE', `Plugin \`${id}\`: ${problem}.`);
    const schedule = plugin.info.schedule!;
    for (const key of ['delaySeconds', 'repeatSeconds'] as const) {
      const value = schedule[key];
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        return new PlugboardError(
          'PLUGBOARD_INVALID_PLUGIN',
          `Plugin \`${id}\`: expected \`${key}\` to be a number >= 0, got ${JSON.stringify(value)}.`,
        );
      }
    }
  }
  const tasks = def.tasks ?? [];
  if (!Array.isArray(tasks)) {
    return new PlugboardError(
      'PLUGBOARD_INVALID_PLUGIN',
      `Plugin \`${id}\`: \`tasks\` must be an array of Task classes.`,
    );
  }
  for (const taskClass of tasks as unknown[]) {
    if (!isTaskClass(taskClass)) {
      return new PlugboardError(
        'PLUGBOARD_INVALID_PLUGIN',
        `Plugin \`${id}\`: every entry of \`tasks\` must be a class extending Task, got ${describeId(typeof taskClass === 'function' ? taskClass.name : typeof taskClass)}.`,
      );
    }
    const problem = taskClassProblem(taskClass as TaskClass);
    if (problem) return new PlugboardError('PLUGBOARD_INVALID_PLUGIN', `Plugin \`${id}\`: ${problem}.`);
    const name = taskTypeName(taskClass as TaskClass);
    if (plugin.taskTypes.has(name)) {
      return new PlugboardError(
        'PLUGBOARD_INVALID_PLUGIN',
        `Plugin \`${id}\` registers two task classes named \`${name}\`: give one a distinct \`static taskType\`.`,
      );
    }
    plugin.taskTypes.set(name, taskClass as TaskClass);
  }
  const kind = plugin.info.kind;
  if (
    kind !== 'point' &&
    typeof (plugin.cls.prototype as { createTasks?: unknown }).createTasks !== 'function'
  ) {
    return new PlugboardError(
      'PLUGBOARD_INVALID_PLUGIN',
      `Plugin \`${id}\` does not implement createTasks().`,
    );
  }
  for (const point of (def.implements as PluginPoint<unknown>[] | undefined) ?? []) {
    for (const method of point.methods) {
      if (typeof (plugin.cls.prototype as Record<string, unknown>)[method] !== 'function') {
        return new PlugboardError(
          'PLUGBOARD_MISSING_POINT_METHOD',
          `Plugin \`${id}\` implements plugin point \`${point.id}\` but has no \`${method}()\` method.`,
        );
      }
    }
  }
  let properties: ReturnType<PropertyResolver['resolve']>;
  let flags: ReturnType<FlagParser['resolve']>;
  try {
    properties = deps.properties.resolve(id, schemas.properties);
  } catch (error) {
    return new PlugboardError(
      'PLUGBOARD_INVALID_SCHEMA',
      `The \`properties\` schema of plugin \`${id}\` does not compile: ${describeThrown(error)}.`,
      { cause: error },
    );
  }
  if (properties.ok) {
    plugin.secrets = secretValuesOf(schemas.properties, properties.value);
    plugin.redactor = secretRedactor(plugin.secrets);
  }
  try {
    flags = deps.flags.resolve(id, schemas.flags);
  } catch (error) {
    return new PlugboardError(
      'PLUGBOARD_INVALID_SCHEMA',
      `The \`flags\` schema of plugin \`${id}\` does not compile: ${describeThrown(error)}.`,
      { cause: error },
    );
  }
  if (!properties.ok) {
    return new PlugboardError(
      'PLUGBOARD_INVALID_PROPERTIES',
      `App properties of plugin \`${id}\` are invalid: ${formatFieldErrors(properties.errors)}. Set them in the host's properties, its properties file or PLUGBOARD_* environment variables.`,
      { details: { fields: properties.errors } },
    );
  }
  if (!flags.ok) {
    return new PlugboardError(
      'PLUGBOARD_INVALID_FLAGS',
      `Command-line arguments of plugin \`${id}\` are invalid: ${formatFieldErrors(flags.errors.map((e) => ({ ...e, path: `--${id}.${e.path.replace(/^\//, '')}` })))}.`,
      { details: { fields: flags.errors } },
    );
  }
  plugin.properties = properties.value;
  let instance: PluginBase<unknown, unknown>;
  try {
    instance = new (plugin.cls as unknown as new () => PluginBase<unknown, unknown>)();
  } catch (error) {
    return new PlugboardError(
      'PLUGBOARD_PLUGIN_CONSTRUCT_FAILED',
      `The constructor of plugin \`${id}\` threw: ${describeThrown(error)}.`,
      { cause: error },
    );
  }
  bindPlugin(instance, { properties: properties.value, flags: flags.value });
  plugin.instance = instance;
  return undefined;
}
