import { PointPlugin, Type } from '@plugboard/core';
import {
  type EventReportContext,
  type EventReporter,
  EventReportingPluginPoint,
  markdownText,
  type OpsEvent,
} from 'plugboard-example-ops-tracker-points';

function byTime(a: OpsEvent, b: OpsEvent): number {
  return a.occurredAt.localeCompare(b.occurredAt) || a.id - b.id;
}

function periodLine(ctx: EventReportContext, events: readonly OpsEvent[]): string {
  const first = ctx.period.since ?? events[0]?.occurredAt.slice(0, 10) ?? 'the beginning';
  const last = ctx.period.until ?? events.at(-1)?.occurredAt.slice(0, 10) ?? 'now';
  return `Period: ${first} to ${last} · ${events.length} ${events.length === 1 ? 'event' : 'events'}`;
}

/** A Markdown timeline of the events: one section per day (UTC), oldest first. */
export class EventTimeline
  extends PointPlugin({
    id: 'events-timeline',
    name: 'Event timeline (Markdown)',
    description: 'The events of a period as a Markdown timeline, one section per day, oldest first.',
    category: 'Event reports',
    version: '1.0.0',
    implements: [EventReportingPluginPoint],
    properties: Type.Object({
      title: Type.String({
        minLength: 1,
        default: 'Event timeline',
        description: 'The heading of the report',
      }),
    }),
  })
  implements EventReporter
{
  readonly fileExtension = 'md';

  render(events: readonly OpsEvent[], ctx: EventReportContext): string {
    const sorted = [...events].sort(byTime);
    const lines = [`# ${markdownText(this.properties.title)}`, '', periodLine(ctx, sorted)];
    let day = '';
    for (const [i, event] of sorted.entries()) {
      ctx.signal.throwIfAborted();
      const eventDay = event.occurredAt.slice(0, 10);
      if (eventDay !== day) {
        day = eventDay;
        lines.push('', `## ${day}`, '');
        ctx.progress((i / sorted.length) * 100, day);
      }
      const time = event.occurredAt.slice(11, 16);
      lines.push(
        `- ${time} UTC · **${event.type}** on ${markdownText(event.source)} by ${markdownText(event.operator)}: ${markdownText(event.summary)}`,
      );
    }
    if (sorted.length === 0) lines.push('', 'No events in this period.');
    ctx.progress(100);
    return `${lines.join('\n')}\n`;
  }
}
