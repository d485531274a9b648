import { definePluginPoint, type PluginPoint, type TaskLogger } from '@plugboard/core';
import type { OpsEvent, TrackedCredential } from './records.ts';

/** What a report gets besides its records: the time it is made for, cancellation, progress and a log. */
export interface ReportContext {
  /** The time the report is made for: now, or the day a person asked for (`--as-of`), at 00:00 UTC. */
  readonly asOf: Date;
  /** Fires when the report is cancelled (Ctrl-C) or times out: check it between steps. */
  readonly signal: AbortSignal;
  /** Reports how far rendering has got, 0 to 100; the CLI draws it as a progress bar. */
  progress(percent: number, message?: string): void;
  /** Lines people read next to the report's task. */
  readonly log: TaskLogger;
}

/** The period an event report covers; `null` ends are open. */
export interface EventPeriod {
  /** First day included, `YYYY-MM-DD`. */
  readonly since: string | null;
  /** Last day included, `YYYY-MM-DD`. */
  readonly until: string | null;
}

/** What an event report gets besides the events. */
export interface EventReportContext extends ReportContext {
  readonly period: EventPeriod;
}

/** A report over the tracker's events, run with `ops-tracker event-report <id>`. */
export interface EventReporter {
  /** The plugin id: what people pass to `ops-tracker event-report`. */
  readonly id: string;
  /** The extension of the file the report is written to, without the dot: `md`, `csv`. */
  readonly fileExtension: string;
  /** Renders the events of the period, oldest first, as the file's text. */
  render(events: readonly OpsEvent[], ctx: EventReportContext): string | Promise<string>;
}

/** A report over the tracker's credentials, run with `ops-tracker credential-report <id>`. */
export interface CredentialReporter {
  /** The plugin id: what people pass to `ops-tracker credential-report`. */
  readonly id: string;
  /** The extension of the file the report is written to, without the dot: `md`, `csv`. */
  readonly fileExtension: string;
  /** Renders every tracked credential, ordered by system then account, as the file's text. */
  render(credentials: readonly TrackedCredential[], ctx: ReportContext): string | Promise<string>;
}

/** Reports over events. Implement it with `PointPlugin({ implements: [EventReportingPluginPoint], ... })`. */
export const EventReportingPluginPoint: PluginPoint<EventReporter> = definePluginPoint<EventReporter>({
  id: 'ops-tracker.event-reporting',
  description: "Reports generated from the tracker's events.",
  methods: ['render'],
});

/** Reports over credentials. Implement it with `PointPlugin({ implements: [CredentialReportingPluginPoint], ... })`. */
export const CredentialReportingPluginPoint: PluginPoint<CredentialReporter> =
  definePluginPoint<CredentialReporter>({
    id: 'ops-tracker.credential-reporting',
    description: "Reports generated from the tracker's credentials; they see fingerprints, never secrets.",
    methods: ['render'],
  });
