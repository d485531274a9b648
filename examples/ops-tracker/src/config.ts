import { resolve } from 'node:path';
import { describeValue, PlugboardError } from '@plugboard/core';
import type { SummarySchedule } from './summary.ts';

/** The tracker's configuration, read from its environment. */
export interface TrackerConfig {
  /** Where the databases, the summary and default report files live. */
  readonly dataDir: string;
  readonly summary: SummarySchedule;
}

function seconds(env: Readonly<Record<string, string | undefined>>, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text.trim() === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) {
    throw new PlugboardError(
      'PLUGBOARD_INVALID_OPTION',
      `Expected \`${name}\` to be a number of seconds >= 0, got ${describeValue(text)}.`,
    );
  }
  return value;
}

/** Reads the configuration; a bad value is refused with `PLUGBOARD_INVALID_OPTION` naming the variable. */
export function readConfig(
  env: Readonly<Record<string, string | undefined>>,
  packageRoot: string,
): TrackerConfig {
  return {
    dataDir: resolve(env.OPS_TRACKER_DATA || resolve(packageRoot, '.data')),
    summary: {
      delaySeconds: seconds(env, 'OPS_TRACKER_SUMMARY_DELAY', 5),
      repeatSeconds: seconds(env, 'OPS_TRACKER_SUMMARY_REPEAT', 300),
    },
  };
}
