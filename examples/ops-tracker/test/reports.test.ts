import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_CREDENTIALS, SAMPLE_EVENTS } from '../src/sample-data.ts';
import { dataFolder, parseCsv, resultOf, runTracker } from './tracker-process.ts';

const data = dataFolder('reports');
const tracker = (args: string[], env?: Record<string, string>) => runTracker(data.dir, args, env);
const read = (file: string) => readFileSync(join(data.dir, file), 'utf8');

beforeAll(async () => {
  const seeded = await tracker(['seed', '--on', '2025-06-01']);
  expect(seeded.stderr).toBe('');
  expect(seeded.code).toBe(0);
  expect(resultOf(seeded)).toEqual({
    events: SAMPLE_EVENTS.length,
    credentials: SAMPLE_CREDENTIALS.length,
    on: '2025-06-01',
  });
});

afterAll(() => data.cleanup());

describe('report plugins', () => {
  it('are found in the installed report packages and listed as implementations of the plugin points', async () => {
    const run = await tracker(['plugins', '--json']);
    expect(run.code).toBe(0);
    const { plugins } = JSON.parse(run.stdout) as {
      plugins: Array<{
        id: string;
        kind: string;
        status: string;
        implements: string[];
        source: { type: string; location: string };
      }>;
    };
    const reports = plugins
      .filter((p) => p.kind === 'point')
      .map((p) => ({ id: p.id, status: p.status, implements: p.implements, source: p.source }))
      .sort((a, b) => a.id.localeCompare(b.id));
    const events = { type: 'package', location: 'plugboard-example-ops-tracker-event-reports' };
    const credentials = { type: 'package', location: 'plugboard-example-ops-tracker-credential-reports' };
    expect(reports).toEqual([
      {
        id: 'credential-expiry',
        status: 'operational',
        implements: ['ops-tracker.credential-reporting'],
        source: credentials,
      },
      {
        id: 'events-csv',
        status: 'operational',
        implements: ['ops-tracker.event-reporting'],
        source: events,
      },
      {
        id: 'events-timeline',
        status: 'operational',
        implements: ['ops-tracker.event-reporting'],
        source: events,
      },
      {
        id: 'password-reuse',
        status: 'operational',
        implements: ['ops-tracker.credential-reporting'],
        source: credentials,
      },
    ]);
  });
});

describe('event reports', () => {
  it('the timeline lists every event once, a section per day, oldest first, with people’s text escaped', async () => {
    const run = await tracker(['event-report', 'events-timeline']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Run an event report succeeded');
    const file = join(data.dir, 'reports', 'events-timeline.md');
    expect(resultOf(run)).toMatchObject({ report: 'events-timeline', records: SAMPLE_EVENTS.length, file });
    const markdown = read('reports/events-timeline.md');
    expect(markdown.startsWith('# Event timeline\n\nPeriod: 2025-05-29 to 2025-06-01 · 11 events\n')).toBe(
      true,
    );

    const days = [...markdown.matchAll(/^## (\d{4}-\d{2}-\d{2})$/gm)].map((m) => m[1]);
    expect(days).toEqual(['2025-05-29', '2025-05-30', '2025-05-31', '2025-06-01']);
    const times: string[] = [];
    let day = '';
    for (const line of markdown.split('\n')) {
      day = /^## (.+)$/.exec(line)?.[1] ?? day;
      const time = /^- (\d\d:\d\d) UTC · /.exec(line)?.[1];
      if (time) times.push(`${day}T${time}`);
    }
    expect(times).toHaveLength(SAMPLE_EVENTS.length);
    expect(times).toEqual([...times].sort());
    expect(times[0]).toBe('2025-05-29T08:30');
    expect(times.at(-1)).toBe('2025-06-01T09:10');

    // A line break is folded into the line and Markdown characters are shown as typed.
    expect(markdown).toContain(
      '- 11:20 UTC · **incident** on billing-db by bob: Rolled back "payments", then restarted the worker, queue drained',
    );
    expect(markdown).toContain('Deployed web-frontend 5.2.1 \\*hotfix\\* for \\[checkout\\] \\| cart');
  });

  it('the CSV export quotes commas, quotes and line breaks, defuses formulas, and reads back to what was recorded', async () => {
    const out = join(data.dir, 'exports', 'events.csv');
    const run = await tracker(['event-report', 'events-csv', '--out', out]);
    expect(run.code).toBe(0);
    expect(resultOf(run)).toMatchObject({ report: 'events-csv', records: SAMPLE_EVENTS.length, file: out });
    const text = readFileSync(out, 'utf8');
    expect(text.endsWith('\r\n')).toBe(true);
    expect(text).toContain('"Rolled back ""payments"", then restarted\nthe worker, queue drained"');

    const [header, ...rows] = parseCsv(text);
    expect(header).toEqual(['id', 'occurred_at', 'type', 'source', 'operator', 'summary']);
    expect(rows).toHaveLength(SAMPLE_EVENTS.length);
    expect(rows.map((r) => r[1])).toEqual(rows.map((r) => r[1]).sort());
    const summaries = rows.map((r) => r[5]);
    for (const event of SAMPLE_EVENTS) {
      const expected = event.summary.startsWith('=') ? `'${event.summary}` : event.summary;
      expect(summaries).toContain(expected);
    }
    expect(rows.find((r) => r[5]!.includes('SUM'))![5]).toBe(
      "'=SUM(A1:A3) pasted into the runbook by mistake; removed",
    );
  });

  it('an App Property from the environment sets the CSV delimiter, and fields holding it are quoted', async () => {
    const out = join(data.dir, 'exports', 'events-semicolon.csv');
    const run = await tracker(['event-report', 'events-csv', '--out', out], {
      PLUGBOARD_EVENTS_CSV__DELIMITER: ';',
    });
    expect(run.code).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text.split('\r\n')[0]).toBe('id;occurred_at;type;source;operator;summary');
    expect(text).toContain(';"Upstream timeouts; scaled to 6 pods"\r\n');
    expect(
      parseCsv(text, ';')
        .slice(1)
        .map((r) => r[5]),
    ).toContain('Upstream timeouts; scaled to 6 pods');
  });

  it('--since, --until and --type narrow the events a report sees', async () => {
    const out = join(data.dir, 'exports', 'narrow.csv');
    const run = await tracker([
      'event-report',
      'events-csv',
      '--out',
      out,
      '--since',
      '2025-05-30',
      '--until',
      '2025-05-31',
      '--type',
      'deploy',
      '--type',
      'access',
    ]);
    expect(run.code).toBe(0);
    const rows = parseCsv(readFileSync(out, 'utf8')).slice(1);
    expect(rows.map((r) => [r[1], r[2], r[3]])).toEqual([
      ['2025-05-30T16:45:00.000Z', 'access', 'bastion-1'],
      ['2025-05-31T13:30:00.000Z', 'deploy', 'web-frontend'],
    ]);
  });
});

describe('credential reports', () => {
  it('password reuse names the credentials that share a secret, and shows no secret and no fingerprint', async () => {
    const run = await tracker(['credential-report', 'password-reuse', '--as-of', '2025-06-01']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/warn\s+5 credentials share 2 secrets/);
    const markdown = read('reports/password-reuse.md');
    expect(markdown).toContain(
      'As of 2025-06-01 · 7 credentials checked · 2 secrets shared by 5 credentials',
    );
    const groups = markdown.split(/^## /m).slice(1);
    expect(groups).toHaveLength(2);
    expect(groups[0]).toMatch(/^Shared secret A \(3 credentials\)/);
    expect(groups[0]).toContain('| bastion-1 | root | platform |');
    expect(groups[0]).toContain('| billing-db | admin | platform |');
    expect(groups[0]).toContain('| vpn | alice | network |');
    expect(groups[1]).toMatch(/^Shared secret B \(2 credentials\)/);
    expect(groups[1]).toContain('| backup-s3 | backup-writer | storage |');
    expect(groups[1]).toContain('| ci-runner | deploy-bot | platform |');
    expect(markdown).not.toContain('grafana');
    expect(markdown).not.toContain('smtp');

    const key = Buffer.from(read('fingerprint.key').trim(), 'hex');
    for (const { secret } of SAMPLE_CREDENTIALS) {
      const fingerprint = createHmac('sha256', key).update(secret).digest('hex');
      for (const text of [markdown, run.stdout, run.stderr]) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(fingerprint);
        expect(text).not.toContain(fingerprint.slice(0, 12));
      }
    }
  });

  it('the expiry report sorts credentials into expired, expiring within the window, later and never, as of the day asked for', async () => {
    const run = await tracker(['credential-report', 'credential-expiry', '--as-of', '2025-06-01']);
    expect(run.code).toBe(0);
    const markdown = read('reports/credential-expiry.md');
    expect(markdown).toContain('As of 2025-06-01 · 7 credentials · warning window 30 days');
    const sections = Object.fromEntries(
      markdown
        .split(/^## /m)
        .slice(1)
        .map((section) => {
          const [title, ...lines] = section.split('\n');
          return [
            title,
            lines.filter((l) => l.startsWith('| ') && !/^\| (System|---) /.test(l)).map((l) => l.trim()),
          ];
        }),
    );
    expect(sections).toEqual({
      'Expired (1)': ['| billing-db | admin | platform | 2025-05-29 | 3 days ago |'],
      'Expiring within 30 days (3)': [
        '| smtp | alerts | observability | 2025-06-01 | today |',
        '| vpn | alice | network | 2025-06-13 | in 12 days |',
        '| backup-s3 | backup-writer | storage | 2025-07-01 | in 30 days |',
      ],
      'Later (2)': [
        '| ci-runner | deploy-bot | platform | 2025-07-16 | in 45 days |',
        '| grafana | admin | observability | 2025-12-18 | in 200 days |',
      ],
      'No expiry date (1)': ['| bastion-1 | root | platform | never | does not expire |'],
    });
  });

  it('the warning window is an App Property, and a later --as-of moves credentials into expired', async () => {
    const run = await tracker(['credential-report', 'credential-expiry', '--as-of', '2025-06-14'], {
      PLUGBOARD_CREDENTIAL_EXPIRY__WARN_DAYS: '7',
    });
    expect(run.code).toBe(0);
    const markdown = read('reports/credential-expiry.md');
    expect(markdown).toContain('As of 2025-06-14 · 7 credentials · warning window 7 days');
    expect(markdown).toMatch(
      /## Expired \(3\)\n\n.*\n.*\n\| billing-db .* \| 16 days ago \|\n\| smtp .* \| 13 days ago \|\n\| vpn .* \| 1 day ago \|/,
    );
    expect(markdown).toContain('## Expiring within 7 days (0)\n\nNone.');
  });
});

describe('recording', () => {
  it('an added event and credential reach the reports; a secret given in the environment stays out of every file', async () => {
    const added = await tracker([
      'add-event',
      '--type',
      'incident',
      '--source',
      'vpn',
      '--summary',
      'Tunnel flapping, "keepalive" raised',
      '--at',
      '2025-06-01T23:30:00+00:00',
    ]);
    expect(added.code).toBe(0);
    expect(resultOf(added)).toMatchObject({ occurredAt: '2025-06-01T23:30:00.000Z' });

    const secret = 'S3cr3t-Backup-Key';
    const credential = await tracker(
      [
        'add-credential',
        '--system',
        'wiki',
        '--account',
        'admin',
        '--owner',
        'docs',
        '--expires',
        '2025-06-20',
      ],
      { OPS_TRACKER_SECRET: secret },
    );
    expect(credential.code).toBe(0);
    expect(resultOf(credential)).toMatchObject({ rotated: false });

    const timeline = await tracker(['event-report', 'events-timeline', '--since', '2025-06-01']);
    expect(timeline.code).toBe(0);
    const lines = read('reports/events-timeline.md')
      .split('\n')
      .filter((l) => l.startsWith('- '));
    expect(lines.at(-1)).toBe(
      '- 23:30 UTC · **incident** on vpn by tester: Tunnel flapping, "keepalive" raised',
    );

    const reuse = await tracker(['credential-report', 'password-reuse']);
    expect(reuse.code).toBe(0);
    expect(read('reports/password-reuse.md')).toMatch(
      /## Shared secret A \(3 credentials\)\n\n.*\n.*\n\| backup-s3 .*\n\| ci-runner .*\n\| wiki \| admin \| docs \|/,
    );

    // Neither the tracker's database, nor the task history, nor any report holds a secret.
    const files = readdirSync(data.dir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
    expect(files.map((f) => f.name)).toEqual(expect.arrayContaining(['tracker.db', 'plugboard.db']));
    for (const file of files) {
      const bytes = readFileSync(join(file.parentPath, file.name));
      for (const { secret: sample } of SAMPLE_CREDENTIALS) expect(bytes.includes(sample)).toBe(false);
    }
  });
});
