import {
  BackgroundTaskPlugin,
  type BackgroundTaskPluginDefinition,
  createHost,
  type Host,
  memoryStore,
  Task,
} from '@plugboard/core';
import { FakeClock } from '@plugboard/testing';
import { afterEach, describe, expect, it } from 'vitest';

const hosts: Host[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop({ timeoutMs: 100 })));
});

class NoopTask extends Task<Record<string, never>> {
  async run() {
    return null;
  }
}

/** A background plugin that records when each run was created, and creates no task. */
function cronPlugin(
  options: Omit<BackgroundTaskPluginDefinition, 'id' | 'name'>,
  clock: FakeClock,
  fired: number[],
) {
  return class Digest extends BackgroundTaskPlugin({
    id: 'digest',
    name: 'Digest',
    tasks: [NoopTask],
    ...options,
  }) {
    createTasks() {
      fired.push(clock.now());
    }
  };
}

async function started(plugin: unknown, clock: FakeClock) {
  const host = createHost({
    env: false,
    argv: [],
    plugins: { classes: [plugin as never] },
    clock,
    store: memoryStore(),
  });
  hosts.push(host);
  await host.start();
  return host;
}

const iso = (times: readonly number[]) => times.map((t) => new Date(t).toISOString());
const hour = 3_600_000;

describe('cron schedules', () => {
  it('fire on every time of the expression, seconds included, and show it with the next run', async () => {
    const clock = new FakeClock(Date.parse('2026-01-05T10:00:00Z'));
    const fired: number[] = [];
    const host = await started(cronPlugin({ cron: '*/15 * * * * *' }, clock, fired), clock);
    expect(host.plugins.get('digest')?.schedule).toEqual({
      delaySeconds: 0,
      repeatSeconds: 0,
      replaceExistingTasks: true,
      cron: '*/15 * * * * *',
      timeZone: 'UTC',
    });
    const [schedule] = await host.schedules.list();
    expect(schedule).toMatchObject({
      id: 'digest',
      cron: '*/15 * * * * *',
      timeZone: 'UTC',
      nextRunAt: Date.parse('2026-01-05T10:00:15Z'),
    });
    await clock.advance(60_000);
    expect(iso(fired)).toEqual([
      '2026-01-05T10:00:15.000Z',
      '2026-01-05T10:00:30.000Z',
      '2026-01-05T10:00:45.000Z',
      '2026-01-05T10:01:00.000Z',
    ]);
    const [after] = await host.schedules.list();
    expect(after).toMatchObject({ runs: 4, nextRunAt: Date.parse('2026-01-05T10:01:15Z') });
  });

  it('read the expression in the time zone given', async () => {
    const clock = new FakeClock(Date.parse('2026-07-01T00:00:00Z'));
    const fired: number[] = [];
    const host = await started(
      cronPlugin({ cron: '0 9 * * 1-5', timeZone: 'America/New_York' }, clock, fired),
      clock,
    );
    const [schedule] = await host.schedules.list();
    // 09:00 in New York in July is 13:00 UTC (EDT, UTC-4).
    expect(schedule).toMatchObject({
      timeZone: 'America/New_York',
      nextRunAt: Date.parse('2026-07-01T13:00:00Z'),
    });
    await clock.advance(3 * 24 * hour);
    expect(iso(fired)).toEqual([
      '2026-07-01T13:00:00.000Z',
      '2026-07-02T13:00:00.000Z',
      '2026-07-03T13:00:00.000Z',
    ]);
  });

  it('run a daily job once on the spring-forward day, though its time does not exist that night', async () => {
    // Berlin skips 02:00-03:00 on 29 March 2026; 02:30 runs once, at the change.
    const clock = new FakeClock(Date.parse('2026-03-28T00:00:00Z'));
    const fired: number[] = [];
    await started(cronPlugin({ cron: '0 30 2 * * *', timeZone: 'Europe/Berlin' }, clock, fired), clock);
    await clock.advance(3 * 24 * hour);
    expect(iso(fired)).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-29T01:00:00.000Z', // 03:00 CEST, the first moment after the gap
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
    ]);
  });

  it('run a daily job once on the fall-back day, though its time happens twice that night', async () => {
    // Berlin goes from 03:00 CEST back to 02:00 CET on 25 October 2026: 02:30 happens twice, it runs once.
    const clock = new FakeClock(Date.parse('2026-10-24T00:00:00Z'));
    const fired: number[] = [];
    await started(cronPlugin({ cron: '0 30 2 * * *', timeZone: 'Europe/Berlin' }, clock, fired), clock);
    await clock.advance(3 * 24 * hour);
    expect(iso(fired)).toEqual([
      '2026-10-24T00:30:00.000Z', // 02:30 CEST
      '2026-10-25T00:30:00.000Z', // the first 02:30 (CEST) only
      '2026-10-26T01:30:00.000Z', // 02:30 CET
    ]);
  });

  it('run an hourly job once every real hour across both changes, neither skipping nor doubling one', async () => {
    const clock = new FakeClock(Date.parse('2026-03-08T04:00:00Z'));
    const fired: number[] = [];
    await started(cronPlugin({ cron: '0 30 * * * *', timeZone: 'America/New_York' }, clock, fired), clock);
    // New York springs forward at 07:00 UTC on 8 March 2026.
    await clock.advance(5 * hour);
    expect(iso(fired)).toEqual([
      '2026-03-08T04:30:00.000Z',
      '2026-03-08T05:30:00.000Z',
      '2026-03-08T06:30:00.000Z', // 01:30 EST
      '2026-03-08T07:30:00.000Z', // 03:30 EDT
      '2026-03-08T08:30:00.000Z',
    ]);
  });

  it('run an hourly job in the repeated hour of the fall-back night too', async () => {
    // New York falls back at 06:00 UTC on 1 November 2026: 01:30 happens at 05:30 and at 06:30 UTC.
    const clock = new FakeClock(Date.parse('2026-11-01T04:00:00Z'));
    const fired: number[] = [];
    await started(cronPlugin({ cron: '0 30 * * * *', timeZone: 'America/New_York' }, clock, fired), clock);
    await clock.advance(4 * hour);
    expect(iso(fired)).toEqual([
      '2026-11-01T04:30:00.000Z',
      '2026-11-01T05:30:00.000Z',
      '2026-11-01T06:30:00.000Z',
      '2026-11-01T07:30:00.000Z',
    ]);
  });

  it('skip the times missed while a run was unfinished, then keep to the expression', async () => {
    const clock = new FakeClock(Date.parse('2026-01-05T10:00:00Z'));
    const fired: number[] = [];
    const host = await started(cronPlugin({ cron: '0 * * * * *' }, clock, fired), clock);
    await clock.advance(60_000);
    // The host's timer is one: a firing that comes late computes the next run from now, not from the late time.
    await clock.advance(150_000);
    expect(fired).toHaveLength(3);
    const [schedule] = await host.schedules.list();
    expect(schedule!.nextRunAt).toBe(Date.parse('2026-01-05T10:04:00Z'));
  });

  it('keep an earlier schedule with replaceExistingTasks false, and its next run', async () => {
    const store = memoryStore();
    const clock = new FakeClock(Date.parse('2026-01-05T10:00:00Z'));
    const fired: number[] = [];
    const first = createHost({
      env: false,
      argv: [],
      plugins: { classes: [cronPlugin({ cron: '0 0 * * * *' }, clock, fired) as never] },
      clock,
      store,
    });
    await first.start();
    const [armed] = await first.schedules.list();
    expect(armed!.nextRunAt).toBe(Date.parse('2026-01-05T11:00:00Z'));
    await first.stop();
    await clock.advance(30 * 60_000);
    const second = createHost({
      env: false,
      argv: [],
      plugins: {
        classes: [cronPlugin({ cron: '*/5 * * * *', replaceExistingTasks: false }, clock, fired) as never],
      },
      clock,
      store,
    });
    hosts.push(second);
    await second.start();
    const [kept] = await second.schedules.list();
    expect(kept).toMatchObject({ cron: '0 0 * * * *', nextRunAt: Date.parse('2026-01-05T11:00:00Z') });
  });

  describe('refuse a plugin with PLUGBOARD_INVALID_SCHEDULE', () => {
    const cases: Array<[string, Omit<BackgroundTaskPluginDefinition, 'id' | 'name'>, string]> = [
      ['a bad expression', { cron: '61 * * * *' }, 'is not a valid cron expression'],
      ['an expression that is not a string', { cron: 5 as never }, 'expected `cron` to be a cron expression'],
      ['an expression that never fires', { cron: '0 0 30 2 *' }, 'never fires'],
      ['an unknown time zone', { cron: '0 * * * *', timeZone: 'Mars/Olympus' }, 'IANA time zone'],
      ['a time zone without cron', { timeZone: 'UTC' }, '`timeZone` applies to a `cron` schedule only'],
      [
        'cron and repeatSeconds',
        { cron: '0 * * * *', repeatSeconds: 60 },
        'give either `cron` or `repeatSeconds`',
      ],
      [
        'cron and delaySeconds',
        { cron: '0 * * * *', delaySeconds: 5, repeatSeconds: 0 },
        '`delaySeconds` and `repeatSeconds`, not both',
      ],
    ];
    for (const [what, options, message] of cases) {
      it(what, async () => {
        const clock = new FakeClock(0);
        const host = await started(cronPlugin(options, clock, []), clock);
        const info = host.plugins.get('digest')!;
        expect(info).toMatchObject({ status: 'invalid', code: 'PLUGBOARD_INVALID_SCHEDULE' });
        expect(info.reason).toContain(message);
        expect(await host.schedules.list()).toEqual([]);
      });
    }
  });
});
