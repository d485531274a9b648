import { PointPlugin, Type } from '@plugboard/core';
import {
  type EventReportContext,
  type EventReporter,
  EventReportingPluginPoint,
  type OpsEvent,
} from 'plugboard-example-ops-tracker-points';

/** Leading characters a spreadsheet would run as a formula (CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV field (RFC 4180): quoted when it holds the delimiter, a quote, a line break or edge spaces, with quotes
 * doubled; text a spreadsheet would take for a formula is prefixed with `'`.
 */
export function csvField(value: string | number, delimiter: string): string {
  let text = String(value);
  if (typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`;
  const needsQuotes =
    text.includes(delimiter) || /["\r\n]/.test(text) || text !== text.trim() || text.length === 0;
  return needsQuotes ? `"${text.replaceAll('"', '""')}"` : text;
}

const COLUMNS = ['id', 'occurred_at', 'type', 'source', 'operator', 'summary'] as const;
const PROGRESS_EVERY = 500;

/** Every event of the period as CSV, one row per event, oldest first, for spreadsheets and other tools. */
export class EventCsvExport
  extends PointPlugin({
    id: 'events-csv',
    name: 'Event export (CSV)',
    description: 'The events of a period as CSV (RFC 4180), one row per event, oldest first.',
    category: 'Event reports',
    version: '1.0.0',
    implements: [EventReportingPluginPoint],
    properties: Type.Object({
      delimiter: Type.Union([Type.Literal(','), Type.Literal(';'), Type.Literal('\t')], {
        default: ',',
        description: 'The field separator: `;` suits spreadsheets set to a decimal comma',
      }),
    }),
  })
  implements EventReporter
{
  readonly fileExtension = 'csv';

  render(events: readonly OpsEvent[], ctx: EventReportContext): string {
    const { delimiter } = this.properties;
    const rows = [COLUMNS.join(delimiter)];
    for (const [i, event] of events.entries()) {
      if (i % PROGRESS_EVERY === 0) {
        ctx.signal.throwIfAborted();
        ctx.progress((i / events.length) * 100, `${i} of ${events.length} rows`);
      }
      const fields = [event.id, event.occurredAt, event.type, event.source, event.operator, event.summary];
      rows.push(fields.map((field) => csvField(field, delimiter)).join(delimiter));
    }
    ctx.progress(100, `${events.length} rows`);
    ctx.log.info(`Exported ${events.length} ${events.length === 1 ? 'event' : 'events'}`);
    return `${rows.join('\r\n')}\r\n`;
  }
}
