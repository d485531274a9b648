import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScheduleRecord } from '@plugboard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataFolder, resultOf, runTracker } from './tracker-process.ts';

const data = dataFolder('background');
const tracker = (args: string[], env?: Record<string, string>) => runTracker(data.dir, args, env);
const summaryFile = join(data.dir, 'summary.md');

async function schedule(env?: Record<string, string>): Promise<ScheduleRecord> {
  const run = await tracker(['schedules', '--json'], env);
  expect(run.code).toBe(0);
  const { schedules } = JSON.parse(run.stdout) as { schedules: ScheduleRecord[] };
  expect(schedules.map((s) => s.id)).toEqual(['tracker-summary']);
  return schedules[0]!;
}

beforeAll(async () => {
  // Sample data up to today, so the summary's "expired" and "expiring" counts are known.
  const seeded = await tracker(['seed']);
  expect(seeded.code).toBe(0);
});

afterAll(() => data.cleanup());

describe('the background summary', () => {
  it('is not written by a one-off command that ends before its delay', async () => {
    expect(existsSync(summaryFile)).toBe(false);
    const first = await schedule();
    expect(first).toMatchObject({ delaySeconds: 5, repeatSeconds: 300, runs: 0, lastRunAt: null });
  });

  it('runs after its delay and again on its cadence while `watch` keeps the tracker running', async () => {
    // Runs at 0.2, 0.8 and 1.4 s; the next (2.0 s) comes after watch has stopped the tracker.
    const cadence = { OPS_TRACKER_SUMMARY_DELAY: '0.2', OPS_TRACKER_SUMMARY_REPEAT: '0.6' };
    const started = Date.now();
    const run = await tracker(['watch', '--seconds', '1.5'], cadence);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const { summaries } = resultOf(run) as { summaries: number };
    expect(summaries).toBeGreaterThanOrEqual(2);
    expect(run.stdout.match(/Keep the tracker running info {2}Summary written at /g)?.length).toBe(summaries);

    const summary = readFileSync(summaryFile, 'utf8');
    expect(summary).toMatch(
      /^# Ops tracker summary\n\nWritten (\S+) by the tracker's background summary\.\n/,
    );
    const writtenAt = Date.parse(/Written (\S+) /.exec(summary)![1]!);
    expect(writtenAt).toBeGreaterThan(started);
    expect(summary).toContain('- 11 recorded; the latest: change on dns at ');
    expect(summary).toContain(
      '- 7 tracked\n- 1 expired, 3 expiring within 30 days\n- 5 share their secret with another credential',
    );

    const tasks = await tracker(['tasks', '--plugin', 'tracker-summary', '--json']);
    const records = (JSON.parse(tasks.stdout) as { tasks: Array<{ state: string; user: { id: string } }> })
      .tasks;
    expect(records.length).toBeGreaterThanOrEqual(summaries);
    for (const record of records)
      expect(record).toMatchObject({ state: 'succeeded', user: { id: 'plugboard:system' } });

    // This start replaces the schedule again, with the default cadence, and keeps the run count.
    const after = await schedule();
    expect(after).toMatchObject({ delaySeconds: 5, repeatSeconds: 300, lastState: 'succeeded' });
    expect(after.runs).toBe(records.length);
  });

  it('each start replaces the earlier schedule, honouring the new delay and repeat from then', async () => {
    const before = Date.now();
    const replaced = await schedule({ OPS_TRACKER_SUMMARY_DELAY: '3600', OPS_TRACKER_SUMMARY_REPEAT: '0' });
    expect(replaced).toMatchObject({ delaySeconds: 3600, repeatSeconds: 0 });
    expect(replaced.nextRunAt).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(replaced.nextRunAt).toBeLessThan(Date.now() + 3_600_000 + 1000);
  });
});
