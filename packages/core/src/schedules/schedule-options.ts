import { cronProblem } from './cron.js';

/**
 * Why a background plugin's cron options cannot be used, or `null` when they can: a cron expression replaces
 * `delaySeconds` and `repeatSeconds`, so giving both is refused rather than one silently winning.
 */
export function scheduleProblem(def: Readonly<Record<string, unknown>>): string | null {
  if (def.cron === undefined) {
    return def.timeZone === undefined
      ? null
      : '`timeZone` applies to a `cron` schedule only; give `cron` too';
  }
  const both = (['delaySeconds', 'repeatSeconds'] as const).filter((key) => def[key] !== undefined);
  if (both.length > 0) {
    return `give either \`cron\` or ${both.map((key) => `\`${key}\``).join(' and ')}, not both`;
  }
  return cronProblem(def.cron, def.timeZone ?? 'UTC');
}
