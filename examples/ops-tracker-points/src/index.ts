/**
 * The ops tracker's plugin points: what a report plugin implements and the records it reads. Report packages
 * and the tracker both depend on this package, so they agree on one contract; `markdownText` helps reports
 * that write Markdown.
 *
 * @module plugboard-example-ops-tracker-points
 */

export { markdownText } from './markdown.ts';
export type {
  CredentialReporter,
  EventPeriod,
  EventReportContext,
  EventReporter,
  ReportContext,
} from './points.ts';
export { CredentialReportingPluginPoint, EventReportingPluginPoint } from './points.ts';
export type { EventType, OpsEvent, TrackedCredential } from './records.ts';
export { EVENT_TYPES } from './records.ts';
