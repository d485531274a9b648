const UNITS: ReadonlyArray<readonly [seconds: number, one: string, many: string]> = [
  [7 * 86_400, 'week', 'weeks'],
  [86_400, 'day', 'days'],
  [3_600, 'hour', 'hours'],
  [60, 'minute', 'minutes'],
  [1, 'second', 'seconds'],
];

/**
 * A schedule's repeat interval in words a person reads: `every day`, `every 6 hours`, `every 90 seconds`;
 * `once` for 0.
 *
 * @example
 * describeCadence(86_400); // 'every day'
 */
export function describeCadence(repeatSeconds: number): string {
  if (!Number.isFinite(repeatSeconds) || repeatSeconds <= 0) return 'once';
  for (const [size, one, many] of UNITS) {
    if (repeatSeconds % size === 0) {
      const count = repeatSeconds / size;
      return count === 1 ? `every ${one}` : `every ${count} ${many}`;
    }
  }
  return `every ${repeatSeconds} seconds`;
}

/**
 * A duration in milliseconds as a person reads it: `850 ms`, `4.2 s`, `3 min 5 s`, `2 h 10 min`.
 *
 * @example
 * describeDuration(185_000); // '3 min 5 s'
 */
export function describeDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min${seconds % 60 ? ` ${seconds % 60} s` : ''}`;
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
}
