import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  ContextPlugin,
  defineContextKind,
  invalidArguments,
  type PluginClass,
  type Static,
  Task,
  type TaskContext,
  TaskError,
  Type,
} from '@plugboard/core';
import {
  type CredentialReporter,
  CredentialReportingPluginPoint,
  EVENT_TYPES,
  type EventReporter,
  EventReportingPluginPoint,
  type EventType,
  type ReportContext,
} from 'plugboard-example-ops-tracker-points';
import { startOfDay, today } from './days.ts';
import type { TrackerServices } from './services.ts';

const EventReportArgs = Type.Object({
  out: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'The file to write; default reports/<report>.<extension> in the data folder',
    }),
  ),
  since: Type.Optional(
    Type.String({ format: 'date', description: 'The first day to include (YYYY-MM-DD, UTC)' }),
  ),
  until: Type.Optional(
    Type.String({ format: 'date', description: 'The last day to include (YYYY-MM-DD, UTC)' }),
  ),
  type: Type.Array(Type.Enum(EVENT_TYPES), {
    default: [],
    description: 'Only events of this type; repeat for several (default every type)',
  }),
});

const CredentialReportArgs = Type.Object({
  out: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'The file to write; default reports/<report>.<extension> in the data folder',
    }),
  ),
  asOf: Type.Optional(
    Type.String({
      format: 'date',
      description: 'The day the report is made for (YYYY-MM-DD, UTC); default today',
    }),
  ),
});

/** What a report run returns: where the report went and how much it covered. */
export interface ReportResult {
  readonly report: string;
  readonly records: number;
  readonly file: string;
  readonly bytes: number;
}

interface ReportInput {
  readonly report: string;
  readonly file: string;
}

/** A report's progress takes 10 to 90 % of the task's: reading comes before it and writing after. */
function reportContext(ctx: TaskContext, asOf: Date): ReportContext {
  return {
    asOf,
    signal: ctx.signal,
    log: ctx.log,
    progress: (percent, message) => ctx.progress(10 + Math.min(Math.max(percent, 0), 100) * 0.8, message),
  };
}

async function writeReport(
  ctx: TaskContext,
  file: string,
  content: unknown,
  report: string,
): Promise<number> {
  if (typeof content !== 'string') {
    throw new TaskError(`Report \`${report}\` returned ${typeof content} instead of the report's text.`, {
      retryable: false,
    });
  }
  ctx.signal.throwIfAborted();
  ctx.progress(90, 'Writing');
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, content, 'utf8');
  ctx.log.info(`Wrote ${file}`);
  ctx.progress(100);
  return Buffer.byteLength(content);
}

function reportFile(
  services: TrackerServices,
  reporter: { id: string; fileExtension: string },
  out?: string,
) {
  // `out` is relative to where the command was run; the default keeps reports with the tracker's data.
  return out
    ? resolve(out)
    : join(services.dataDir, 'reports', `${reporter.id}.${reporter.fileExtension.replace(/^\./, '')}`);
}

/** The operational report with this id; it may have been disabled since the command resolved it. */
function findReporter<T extends { id: string }>(reporters: readonly T[], id: string): T {
  const found = reporters.find((r) => r.id === id);
  if (!found) {
    throw new TaskError(`Report \`${id}\` is no longer operational; \`ops-tracker plugins\` says why.`, {
      retryable: false,
    });
  }
  return found;
}

/**
 * The report commands. Report plugins implement a plugin point and have nothing to run on their own; the
 * tracker makes each installed report an object its two report commands act on, so
 * `ops-tracker event-report events-timeline` runs the `events-timeline` plugin on the tracker's events.
 */
export function reportCommands(services: TrackerServices): PluginClass[] {
  const eventReport = defineContextKind<EventReporter>({
    id: 'event report',
    idArgument: 'report',
    description: 'The event report to run (`ops-tracker plugins` lists them)',
    resolve: (id) => services.implementationsOf(EventReportingPluginPoint).find((r) => r.id === id),
  });
  const credentialReport = defineContextKind<CredentialReporter>({
    id: 'credential report',
    idArgument: 'report',
    description: 'The credential report to run (`ops-tracker plugins` lists them)',
    resolve: (id) => services.implementationsOf(CredentialReportingPluginPoint).find((r) => r.id === id),
  });

  interface EventReportInput extends ReportInput {
    readonly since: string | null;
    readonly until: string | null;
    readonly types: EventType[];
  }

  class EventReportTask extends Task<EventReportInput, ReportResult> {
    async run(ctx: TaskContext) {
      const { report, file, since, until, types } = this.input;
      const reporter = findReporter(services.implementationsOf(EventReportingPluginPoint), report);
      ctx.status(`Reading events for ${report}`);
      const events = services.tracker.listEvents({ since, until, types });
      ctx.progress(10, `${events.length} events`);
      const content = await reporter.render(events, {
        ...reportContext(ctx, new Date()),
        period: { since, until },
      });
      const bytes = await writeReport(ctx, file, content, report);
      return { report, records: events.length, file, bytes };
    }
  }

  class EventReport extends ContextPlugin(eventReport, {
    id: 'event-report',
    name: 'Run an event report',
    description: "Runs an installed event report over the tracker's events and writes it to a file.",
    category: 'Reports',
    sortOrder: 1,
    args: EventReportArgs,
    tasks: [EventReportTask],
  }) {
    createTasks(args: Static<typeof EventReportArgs>, reporter: EventReporter) {
      if (args.since && args.until && args.until < args.since) {
        throw invalidArguments([
          { path: '/until', message: `${args.until} is before --since ${args.since}` },
        ]);
      }
      return new EventReportTask({
        report: reporter.id,
        file: reportFile(services, reporter, args.out),
        since: args.since ?? null,
        until: args.until ?? null,
        types: args.type,
      });
    }
  }

  interface CredentialReportInput extends ReportInput {
    readonly asOf: string;
  }

  class CredentialReportTask extends Task<CredentialReportInput, ReportResult> {
    async run(ctx: TaskContext) {
      const { report, file, asOf } = this.input;
      const reporter = findReporter(services.implementationsOf(CredentialReportingPluginPoint), report);
      ctx.status(`Reading credentials for ${report}`);
      const credentials = services.tracker.listCredentials();
      ctx.progress(10, `${credentials.length} credentials`);
      const content = await reporter.render(credentials, reportContext(ctx, startOfDay(asOf)));
      const bytes = await writeReport(ctx, file, content, report);
      return { report, records: credentials.length, file, bytes };
    }
  }

  class CredentialReport extends ContextPlugin(credentialReport, {
    id: 'credential-report',
    name: 'Run a credential report',
    description:
      "Runs an installed credential report over the tracker's credentials and writes it to a file. Reports see fingerprints, never secrets.",
    category: 'Reports',
    sortOrder: 2,
    args: CredentialReportArgs,
    tasks: [CredentialReportTask],
  }) {
    createTasks(args: Static<typeof CredentialReportArgs>, reporter: CredentialReporter) {
      return new CredentialReportTask({
        report: reporter.id,
        file: reportFile(services, reporter, args.out),
        asOf: args.asOf ?? today(),
      });
    }
  }

  return [EventReport, CredentialReport];
}
