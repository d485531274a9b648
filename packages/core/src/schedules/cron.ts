import { Cron } from 'croner';

/** Parsed expressions by `expression + time zone`: a schedule computes its next run on every firing. */
const parsed = new Map<string, Cron>();
const MAX_PARSED = 1000;

function cronOf(expression: string, timeZone: string): Cron {
  const key = `${timeZone} ${expression}`;
  let cron = parsed.get(key);
  if (!cron) {
    cron = new Cron(expression, { timezone: timeZone, paused: true, mode: '5-or-6-parts' });
    if (parsed.size >= MAX_PARSED) parsed.delete(parsed.keys().next().value!);
    parsed.set(key, cron);
  }
  return cron;
}

/** Whether `timeZone` is an IANA time zone this runtime knows, such as `Europe/Berlin` or `UTC`. */
function isKnownTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Why a cron expression (5 fields, or 6 with seconds first) and time zone cannot be used, or `null` when they can.
 * Croner parses them; an expression that can never fire (`0 0 30 2 *`) is refused too.
 */
export function cronProblem(expression: unknown, timeZone: unknown): string | null {
  if (typeof expression !== 'string' || expression.trim().length === 0) {
    return `expected \`cron\` to be a cron expression such as "0 */5 * * * *", got ${JSON.stringify(expression) ?? String(expression)}`;
  }
  if (typeof timeZone !== 'string' || !isKnownTimeZone(timeZone)) {
    return `expected \`timeZone\` to be an IANA time zone such as "Europe/Berlin" or "UTC", got ${JSON.stringify(timeZone) ?? String(timeZone)}`;
  }
  let cron: Cron;
  try {
    cron = cronOf(expression, timeZone);
  } catch (error) {
    return `\`cron\` ${JSON.stringify(expression)} is not a valid cron expression: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (cron.nextRun(new Date()) === null) {
    return `\`cron\` ${JSON.stringify(expression)} never fires`;
  }
  return null;
}

/**
 * When a cron schedule fires next after `after` (ms since epoch, exclusive), in its time zone; `null` when it never
 * fires again. Croner follows the wall clock across daylight-saving changes: a time that does not exist on the
 * spring-forward day runs once at the change, and an hour that happens twice in autumn runs a fixed-time schedule
 * once, while schedules with a wildcard hour run every real hour.
 */
export function nextCronRun(expression: string, timeZone: string, after: number): number | null {
  const next = cronOf(expression, timeZone).nextRun(new Date(after));
  return next ? next.getTime() : null;
}
