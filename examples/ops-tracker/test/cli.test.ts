import { afterAll, describe, expect, it } from 'vitest';
import { dataFolder, runTracker } from './tracker-process.ts';

const data = dataFolder('cli');
const tracker = (args: string[], env?: Record<string, string>) => runTracker(data.dir, args, env);

afterAll(() => data.cleanup());

describe('help', () => {
  it('--help lists the record, report and tracker commands with their summaries', async () => {
    const run = await tracker(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: ops-tracker [options] [command]');
    expect(run.stdout).toContain(
      'Tracks operational events and credentials, and runs the installed reports over them.',
    );
    const plugins = run.stdout.slice(run.stdout.indexOf('Plugins:'), run.stdout.indexOf('Commands:'));
    const commands = [...plugins.matchAll(/^ {2}([a-z-]+) \[options\]/gm)].map((m) => m[1]);
    expect(commands).toEqual([
      'add-event',
      'add-credential',
      'seed',
      'event-report',
      'credential-report',
      'watch',
    ]);
    expect(plugins).toMatch(/event-report \[options\] \[report\]\s+Runs an installed event report/);
    expect(plugins).toMatch(/credential-report \[options\] \[report\]\s+Runs an installed credential report/);
    // Report plugins implement plugin points: the report commands run them, they are no commands of their own.
    expect(plugins).not.toMatch(/^\s+events-timeline/m);
  });

  it('a command’s --help shows a flag per argument of its schema, with choices, defaults and the env fallback', async () => {
    const [addEvent, addCredential, eventReport, credentialReport, seed] = await Promise.all([
      tracker(['add-event', '--help']),
      tracker(['help', 'add-credential']),
      tracker(['event-report', '--help']),
      tracker(['credential-report', '--help']),
      tracker(['seed', '--help']),
    ]);
    for (const run of [addEvent, addCredential, eventReport, credentialReport, seed])
      expect(run.code).toBe(0);
    expect(addEvent.stdout).toMatch(
      /--type <value>\s+What kind of event it is \(required, choices: "deploy", "change", "incident",\s+"alert", "access", "maintenance", "note"\)/,
    );
    expect(addEvent.stdout).toMatch(/--source <value>\s+The system or host it concerns \(required\)/);
    expect(addEvent.stdout).toMatch(/--at <value>\s+When it happened \(ISO 8601/);
    expect(addCredential.stdout).toMatch(/--secret <value>\s+The secret; only its fingerprint is kept\./);
    expect(addCredential.stdout).toMatch(/\(required, env: OPS_TRACKER_SECRET\)/);
    expect(eventReport.stdout).toContain('Usage: ops-tracker event-report [options] [report]');
    expect(eventReport.stdout).toMatch(
      /report\s+The event report to run \(`ops-tracker plugins` lists them\)/,
    );
    for (const flag of ['--out <value>', '--since <value>', '--until <value>', '--type <value>'])
      expect(eventReport.stdout).toContain(flag);
    expect(credentialReport.stdout).toMatch(
      /--as-of <value>\s+The day the report is made for \(YYYY-MM-DD, UTC\); default today/,
    );
    expect(seed.stdout).toMatch(
      /--replace\s+Delete the existing events and credentials first \(default: true\)/,
    );
    expect(seed.stdout).toMatch(/--no-replace/);
  });
});

describe('usage errors', () => {
  it('a value outside the choices exits 2 and names the flag and the choices', async () => {
    const run = await tracker(['add-event', '--type', 'outage', '--source', 'db-1', '--summary', 'Down']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'error: Invalid arguments for plugin `add-event`: `/type` must be equal to one of the allowed values. (PLUGBOARD_INVALID_ARGUMENTS)',
    );
    expect(run.stderr).toContain(
      '--type: must be equal to one of the allowed values (choices: deploy, change, incident, alert, access, maintenance, note)',
    );
    expect(run.stderr).toContain('Run `ops-tracker add-event --help` for usage.');
    expect(run.stdout).toBe('');
  });

  it('missing required flags and a malformed date exit 2, naming each field', async () => {
    const [missing, badDate] = await Promise.all([
      tracker(['add-event', '--source', 'db-1']),
      tracker(['credential-report', 'credential-expiry', '--as-of', '2025-13-45']),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--type: is required/);
    expect(missing.stderr).toMatch(/--summary: is required/);
    expect(badDate.code).toBe(2);
    expect(badDate.stderr).toContain('--as-of: must match format "date"');
  });

  it('an unknown report exits 2 with the report named; a report plugin run as a command is explained', async () => {
    const [unknown, pointOnly] = await Promise.all([
      tracker(['event-report', 'weekly-digest']),
      tracker(['events-timeline']),
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(
      'error: No event report has id `weekly-digest`. (PLUGBOARD_UNKNOWN_CONTEXT)',
    );
    expect(pointOnly.code).toBe(2);
    expect(pointOnly.stderr).toContain(
      'Plugin `events-timeline` only implements plugin points: it has nothing to run.',
    );
  });

  it('a bad configuration variable exits 2 before anything runs, naming the variable', async () => {
    const run = await tracker(['plugins'], { OPS_TRACKER_SUMMARY_DELAY: 'soon' });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'error: Expected `OPS_TRACKER_SUMMARY_DELAY` to be a number of seconds >= 0, got `"soon"` (string). (PLUGBOARD_INVALID_OPTION)\n',
    );
  });

  it('an event period that ends before it starts is refused without running a report', async () => {
    const run = await tracker([
      'event-report',
      'events-csv',
      '--since',
      '2025-06-02',
      '--until',
      '2025-06-01',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('2025-06-01 is before --since 2025-06-02');
    expect(run.stdout).not.toContain('EventReportTask');
  });
});
