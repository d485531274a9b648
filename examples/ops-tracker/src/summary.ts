import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ActionPlugin,
  BackgroundTaskPlugin,
  type PluginClass,
  type Static,
  Task,
  type TaskContext,
  Type,
} from '@plugboard/core';
import type { TrackerServices } from './services.ts';
import type { TrackerSummary } from './tracker-database.ts';

/** When the background summary runs. */
export interface SummarySchedule {
  /** Seconds after the tracker starts before the first summary. */
  readonly delaySeconds: number;
  /** Seconds between summaries while the tracker keeps running; 0 writes one. */
  readonly repeatSeconds: number;
}

/** The summary as the Markdown file people open. */
export function summaryMarkdown(summary: TrackerSummary): string {
  const { events, credentials } = summary;
  const lastDay = Object.entries(events.lastDayByType).map(([type, n]) => `${type} ${n}`);
  const latest = events.latest
    ? `; the latest: ${events.latest.type} on ${events.latest.source} at ${events.latest.occurredAt.slice(0, 16).replace('T', ' ')} UTC`
    : '';
  return [
    '# Ops tracker summary',
    '',
    `Written ${summary.writtenAt} by the tracker's background summary.`,
    '',
    '## Events',
    '',
    `- ${events.total} recorded${latest}`,
    `- In the 24 hours before: ${lastDay.length > 0 ? lastDay.join(', ') : 'none'}`,
    '',
    '## Credentials',
    '',
    `- ${credentials.total} tracked`,
    `- ${credentials.expired} expired, ${credentials.expiringSoon} expiring within ${credentials.warnDays} days`,
    `- ${credentials.sharingSecret} share their secret with another credential`,
    '',
  ].join('\n');
}

const WatchArgs = Type.Object({
  seconds: Type.Optional(
    Type.Number({
      exclusiveMinimum: 0,
      maximum: 31_536_000,
      description: 'Stop after this many seconds; default run until Ctrl-C',
    }),
  ),
});

/** How often `watch` looks for a new summary to mention. */
const WATCH_POLL_MS = 250;

/**
 * The background summary and the command that keeps the tracker running for it. The summary plugin is
 * scheduled whenever the tracker starts: after `delaySeconds`, then every `repeatSeconds`, replacing the schedule
 * an earlier start left. One-off commands are usually done before the first run; `ops-tracker watch` keeps the
 * process up so the summary runs on its cadence.
 */
export function summaryPlugins(services: TrackerServices, schedule: SummarySchedule): PluginClass[] {
  const { tracker, dataDir } = services;

  class WriteSummaryTask extends Task<{ warnDays: number }, TrackerSummary> {
    // Writing the summary again after a crash is harmless.
    static override retrySafe = true;

    async run(ctx: TaskContext) {
      ctx.status('Counting events and credentials');
      const summary = tracker.summarize(new Date(), this.input.warnDays);
      ctx.progress(50);
      tracker.saveSummary(summary);
      const file = join(dataDir, 'summary.md');
      // Written aside and renamed, so a reader never sees half a file.
      await writeFile(`${file}.tmp`, summaryMarkdown(summary), 'utf8');
      await rename(`${file}.tmp`, file);
      ctx.log.info(`Wrote ${file}`);
      ctx.progress(100);
      return summary;
    }
  }

  const SummaryProperties = Type.Object({
    warnDays: Type.Integer({
      minimum: 1,
      maximum: 3650,
      default: 30,
      description: 'Credentials expiring within this many days count as expiring soon',
    }),
  });

  class TrackerSummaryPlugin extends BackgroundTaskPlugin({
    id: 'tracker-summary',
    name: 'Tracker summary',
    description: `Writes summary.md in the data folder and keeps each summary in the tracker's history, ${schedule.delaySeconds} s after the tracker starts${schedule.repeatSeconds > 0 ? `, then every ${schedule.repeatSeconds} s while it runs` : ''}.`,
    category: 'Tracker',
    delaySeconds: schedule.delaySeconds,
    repeatSeconds: schedule.repeatSeconds,
    replaceExistingTasks: true,
    properties: SummaryProperties,
    tasks: [WriteSummaryTask],
  }) {
    createTasks() {
      return new WriteSummaryTask({ warnDays: this.properties.warnDays });
    }
  }

  class WatchTask extends Task<{ seconds: number | null }, { watchedSeconds: number; summaries: number }> {
    async run(ctx: TaskContext) {
      const started = Date.now();
      const seconds = this.input.seconds;
      const end = seconds === null ? Number.POSITIVE_INFINITY : started + seconds * 1000;
      let last = tracker.latestSummary()?.writtenAt;
      let summaries = 0;
      ctx.status(seconds === null ? 'Running until Ctrl-C' : `Running for ${seconds} s`);
      while (Date.now() < end) {
        await sleep(Math.min(WATCH_POLL_MS, end - Date.now()), undefined, { signal: ctx.signal });
        const latest = tracker.latestSummary();
        if (latest && latest.writtenAt !== last) {
          last = latest.writtenAt;
          summaries++;
          ctx.log.info(`Summary written at ${latest.writtenAt}`);
        }
        if (seconds !== null) ctx.progress(((Date.now() - started) / (seconds * 1000)) * 100);
      }
      return { watchedSeconds: Math.round((Date.now() - started) / 100) / 10, summaries };
    }
  }

  class Watch extends ActionPlugin({
    id: 'watch',
    name: 'Keep the tracker running',
    description:
      'Keeps the tracker running so its background summary runs on schedule, and says when one is written.',
    category: 'Tracker',
    args: WatchArgs,
    tasks: [WatchTask],
  }) {
    createTasks(args: Static<typeof WatchArgs>) {
      return new WatchTask({ seconds: args.seconds ?? null });
    }
  }

  return [TrackerSummaryPlugin, Watch];
}
