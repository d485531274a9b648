import { describeThrown, type PlugboardErrorCode } from '../errors.js';
import type { ReadinessResult } from '../plugin.js';
import type { PluginStatus, RegisteredPlugin } from './registry.js';

/** Readiness reasons longer than this are cut: a reason is one sentence a person reads. */
const MAX_REASON_LENGTH = 1000;

/** The status a readiness check earns, with the reason a person reads and its code. */
export interface ReadinessOutcome {
  /** `operational`, `not-ready` or `failed`. */
  readonly status: PluginStatus;
  /** Why it is not operational; `null` when it is. */
  readonly reason: string | null;
  /** The error code behind `reason`, or `null`. */
  readonly code: PlugboardErrorCode | null;
}

/** A readiness reason as people will read it: a string, cut to one paragraph. */
function readinessReason(reason: unknown): string {
  if (typeof reason !== 'string' || reason.trim().length === 0)
    return 'isReady() reported the plugin is not ready.';
  return reason.length > MAX_REASON_LENGTH
    ? `${reason.slice(0, MAX_REASON_LENGTH)}… [${reason.length - MAX_REASON_LENGTH} characters cut]`
    : reason;
}

/** Runs a plugin's readiness check, bounded by `timeoutMs` (or the plugin's own); returns the status it earns. */
export async function checkReadiness(plugin: RegisteredPlugin, timeoutMs: number): Promise<ReadinessOutcome> {
  const started = performance.now();
  const limit = (plugin.definition.readinessTimeoutMs as number | undefined) ?? timeoutMs;
  const redact = plugin.redactor.text;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const result = await Promise.race([
      Promise.resolve().then(() => plugin.instance!.isReady()),
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), limit);
      }),
    ]);
    if (result === 'timeout') {
      return {
        status: 'not-ready',
        reason: `The readiness check did not settle within ${limit} ms; check what isReady() waits for.`,
        code: 'PLUGBOARD_READINESS_TIMEOUT',
      };
    }
    const outcome = result as ReadinessResult;
    // Only `true` or `{ ready: true }` make a plugin operational: any other answer is read as "not ready".
    const ready =
      outcome === true ||
      (outcome !== null && typeof outcome === 'object' && (outcome as { ready?: unknown }).ready === true);
    if (ready) return { status: 'operational', reason: null, code: null };
    const reason = readinessReason(
      outcome !== null && typeof outcome === 'object' ? (outcome as { reason?: unknown }).reason : undefined,
    );
    return { status: 'not-ready', reason: redact(reason), code: 'PLUGBOARD_NOT_READY' };
  } catch (error) {
    return {
      status: 'failed',
      reason: redact(readinessReason(`The readiness check threw: ${describeThrown(error)}.`)),
      code: 'PLUGBOARD_READINESS_FAILED',
    };
  } finally {
    if (timer) clearTimeout(timer);
    plugin.info = {
      ...plugin.info,
      timings: { ...plugin.info.timings, readinessMs: performance.now() - started },
    };
  }
}
