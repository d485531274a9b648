import { describeValue, PlugboardError } from '../errors.js';
import { invalidOption } from '../option-checks.js';
import { MAX_TIMER_MS } from '../timers.js';

/** How many of a plugin's tasks may run at once and start per interval: `limits` of a plugin or of the host. */
export interface PluginLimits {
  /** The most tasks of the plugin that run at once; unset for no limit of its own. */
  readonly concurrency?: number;
  /** The most tasks of the plugin that start within `intervalMs`; unset for no rate limit. */
  readonly intervalCap?: number;
  /**
   * The window of `intervalCap`, in milliseconds.
   * @default 1000
   */
  readonly intervalMs?: number;
}

/** The text a queued task's `waitingReason` holds while its plugin's limits hold it back. */
export function waitingForPluginSlot(pluginId: string): string {
  return `waiting for a slot of plugin ${pluginId}`;
}

/** Why `value` is not usable as {@link PluginLimits}, or `undefined` when it is. */
export function pluginLimitsProblem(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return `\`limits\` must be an object, got ${describeValue(value)}`;
  const limits = value as Record<string, unknown>;
  for (const key of Object.keys(limits)) {
    if (key !== 'concurrency' && key !== 'intervalCap' && key !== 'intervalMs')
      return `\`limits.${key}\` is not a limit (use concurrency, intervalCap and intervalMs)`;
  }
  for (const key of ['concurrency', 'intervalCap'] as const) {
    const n = limits[key];
    if (n !== undefined && !(typeof n === 'number' && Number.isInteger(n) && n >= 1))
      return `\`limits.${key}\` must be an integer >= 1, got ${describeValue(n)}`;
  }
  const ms = limits.intervalMs;
  if (ms !== undefined && !(typeof ms === 'number' && Number.isFinite(ms) && ms >= 1 && ms <= MAX_TIMER_MS))
    return `\`limits.intervalMs\` must be a number of milliseconds from 1 to ${MAX_TIMER_MS}, got ${describeValue(ms)}`;
  if (ms !== undefined && limits.intervalCap === undefined)
    return '`limits.intervalMs` needs `limits.intervalCap`: how many tasks may start within it';
  return undefined;
}

/** Checks the host's `limits` option: plugin ids to {@link PluginLimits}. */
export function checkHostLimits(value: unknown): void {
  if (value === undefined) return;
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw invalidOption('limits', 'an object of plugin ids to limits', value);
  for (const [id, limits] of Object.entries(value)) {
    const problem = pluginLimitsProblem(limits);
    if (problem !== undefined)
      throw new PlugboardError(
        'PLUGBOARD_INVALID_OPTION',
        `Host option \`limits\` of plugin \`${id}\`: ${problem}.`,
      );
  }
}

/**
 * The limits that hold for a plugin: the host's for its id, field by field over the plugin's own; `undefined`
 * when neither sets one.
 */
export function effectiveLimits(
  own: PluginLimits | undefined,
  host: PluginLimits | undefined,
): PluginLimits | undefined {
  if (own === undefined && host === undefined) return undefined;
  const merged = { ...own, ...host };
  return merged.concurrency === undefined && merged.intervalCap === undefined ? undefined : merged;
}

/**
 * The limits of each plugin id as the runtime asks for them on every task: the registered plugin's own (its
 * `definition.limits`) under the host's, worked out once per registered version of the plugin.
 */
export function limitsOfPlugins(
  plugin: (id: string) => { readonly definition: Readonly<Record<string, unknown>> } | undefined,
  host: Readonly<Record<string, PluginLimits>> | undefined,
): (pluginId: string) => PluginLimits | undefined {
  const known = new WeakMap<object, PluginLimits | null>();
  const hostLimits = (id: string) => (host !== undefined && Object.hasOwn(host, id) ? host[id] : undefined);
  return (pluginId) => {
    const registered = plugin(pluginId);
    if (registered === undefined) return hostLimits(pluginId);
    let limits = known.get(registered);
    if (limits === undefined) {
      limits =
        effectiveLimits(registered.definition.limits as PluginLimits | undefined, hostLimits(pluginId)) ??
        null;
      known.set(registered, limits);
    }
    return limits ?? undefined;
  };
}
