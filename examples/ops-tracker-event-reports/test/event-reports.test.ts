import type { TaskLogger } from '@plugboard/core';
import { createTestHost } from '@plugboard/testing';
import {
  type EventReportContext,
  EventReportingPluginPoint,
  type OpsEvent,
} from 'plugboard-example-ops-tracker-points';
import { describe, expect, it } from 'vitest';
import { csvField, EventCsvExport, EventTimeline } from '../src/index.ts';

const EVENTS: OpsEvent[] = [
  {
    id: 2,
    occurredAt: '2025-06-02T08:00:00.000Z',
    type: 'deploy',
    source: 'api',
    operator: 'ann',
    summary: 'Second, "quoted"',
  },
  {
    id: 1,
    occurredAt: '2025-06-01T23:59:00.000Z',
    type: 'alert',
    source: 'db',
    operator: 'bo',
    summary: '@here disk',
  },
];

function context(): EventReportContext & { progressed: number[]; logged: string[] } {
  const logged: string[] = [];
  const log = Object.fromEntries(
    ['debug', 'info', 'warn', 'error', 'critical', 'always'].map((level) => [
      level,
      (message: string) => logged.push(`${level} ${message}`),
    ]),
  ) as unknown as TaskLogger;
  const progressed: number[] = [];
  return {
    asOf: new Date('2025-06-03T00:00:00.000Z'),
    signal: new AbortController().signal,
    log,
    progress: (percent) => progressed.push(percent),
    period: { since: null, until: null },
    progressed,
    logged,
  };
}

async function reporters(properties: Record<string, Record<string, unknown>> = {}) {
  const host = await createTestHost({ plugins: [EventTimeline, EventCsvExport], properties });
  const found = host.points.get(EventReportingPluginPoint);
  await host.stop();
  return Object.fromEntries(found.map((r) => [r.id, r]));
}

describe('event report plugins', () => {
  it('both implement the event reporting point and are operational in a host', async () => {
    const found = await reporters();
    expect(Object.keys(found).sort()).toEqual(['events-csv', 'events-timeline']);
    expect(found['events-csv']!.fileExtension).toBe('csv');
    expect(found['events-timeline']!.fileExtension).toBe('md');
  });

  it('the timeline sorts by time, groups by UTC day and takes its heading from an App Property', async () => {
    const { 'events-timeline': timeline } = await reporters({ 'events-timeline': { title: 'Week 23' } });
    const ctx = context();
    const text = await timeline!.render(EVENTS, ctx);
    expect(text).toBe(
      [
        '# Week 23',
        '',
        'Period: 2025-06-01 to 2025-06-02 · 2 events',
        '',
        '## 2025-06-01',
        '',
        '- 23:59 UTC · **alert** on db by bo: @here disk',
        '',
        '## 2025-06-02',
        '',
        '- 08:00 UTC · **deploy** on api by ann: Second, "quoted"',
        '',
      ].join('\n'),
    );
    expect(ctx.progressed.at(-1)).toBe(100);
  });

  it('the timeline of an empty period says so', async () => {
    const { 'events-timeline': timeline } = await reporters();
    const ctx = { ...context(), period: { since: '2025-01-01', until: '2025-01-31' } };
    expect(await timeline!.render([], ctx)).toBe(
      '# Event timeline\n\nPeriod: 2025-01-01 to 2025-01-31 · 0 events\n\nNo events in this period.\n',
    );
  });

  it('the CSV export stops when the report is cancelled', async () => {
    const { 'events-csv': csv } = await reporters();
    const controller = new AbortController();
    controller.abort(new Error('cancelled'));
    await expect(async () =>
      csv!.render(EVENTS, { ...context(), signal: controller.signal }),
    ).rejects.toThrow('cancelled');
  });

  it('csvField quotes what would break a row and defuses what a spreadsheet would run', () => {
    expect(csvField('plain', ',')).toBe('plain');
    expect(csvField(42, ',')).toBe('42');
    expect(csvField('a,b', ',')).toBe('"a,b"');
    expect(csvField('a,b', ';')).toBe('a,b');
    expect(csvField('say "hi"', ',')).toBe('"say ""hi"""');
    expect(csvField('two\nlines', ',')).toBe('"two\nlines"');
    expect(csvField(' padded ', ',')).toBe('" padded "');
    expect(csvField('', ',')).toBe('""');
    expect(csvField('tab\there', '\t')).toBe('"tab\there"');
    for (const formula of ['=1+1', '+1', '-1', '@SUM(A1)'])
      expect(csvField(formula, ',')).toBe(`'${formula}`);
  });
});
