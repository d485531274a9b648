import {
  ActionPlugin,
  BackgroundTaskPlugin,
  createHost,
  type ExecuteResult,
  type Host,
  type HostOptions,
  Task,
  Type,
} from '@plugboard/core';
import { migrations, SCHEMA_VERSION, sqliteStore } from '@plugboard/sqlite';
import { FakeClock } from '@plugboard/testing';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { tempDatabaseFolder } from './temp-db.js';

const folder = tempDatabaseFolder('plugboard-flow-control-');
afterAll(() => folder.remove());

const hosts: Host[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop({ timeoutMs: 100 })));
});

class StampTask extends Task<{ at: number }> {
  run() {
    return { at: this.input.at };
  }
}

let fired: number[] = [];
let created = 0;
afterEach(() => {
  fired = [];
  created = 0;
});

function digestPlugin(clock: FakeClock, replaceExistingTasks: boolean) {
  return class Digest extends BackgroundTaskPlugin({
    id: 'digest',
    name: 'Digest',
    tasks: [StampTask],
    cron: '0 0 9 * * *',
    timeZone: 'Europe/Berlin',
    replaceExistingTasks,
  }) {
    createTasks() {
      fired.push(clock.now());
      return new StampTask({ at: clock.now() });
    }
  };
}

class Invoice extends ActionPlugin({
  id: 'invoice',
  name: 'Invoice',
  args: Type.Object({ customer: Type.String() }),
  tasks: [StampTask],
}) {
  createTasks() {
    created++;
    return new StampTask({ at: created });
  }
}

async function started(path: string, options: Partial<HostOptions>): Promise<Host> {
  const host = createHost({ env: false, argv: [], store: sqliteStore({ path }), ...options });
  hosts.push(host);
  await host.start();
  return host;
}

const day = 86_400_000;

describe('cron schedules on SQLite', () => {
  it('survive a restart: the expression, time zone and next run are read back and the cadence goes on', async () => {
    const path = folder.file();
    const clock = new FakeClock(Date.parse('2026-03-27T12:00:00Z'));
    const first = await started(path, { clock, plugins: { classes: [digestPlugin(clock, true)] } });
    await clock.advance(day);
    expect(fired.map((t) => new Date(t).toISOString())).toEqual(['2026-03-28T08:00:00.000Z']);
    await first.stop();

    // Down over the spring-forward night; the restart keeps the schedule and its next run.
    await clock.advance(day);
    const second = await started(path, { clock, plugins: { classes: [digestPlugin(clock, false)] } });
    const [kept] = await second.schedules.list();
    expect(kept).toMatchObject({
      cron: '0 0 9 * * *',
      timeZone: 'Europe/Berlin',
      runs: 1,
      nextRunAt: Date.parse('2026-03-29T07:00:00Z'),
    });
    // The run missed while down fires once at start, then 09:00 CEST (07:00 UTC) each day.
    await clock.advance(2 * day);
    expect(fired.slice(1).map((t) => new Date(t).toISOString())).toEqual([
      '2026-03-29T12:00:00.000Z',
      '2026-03-30T07:00:00.000Z',
      '2026-03-31T07:00:00.000Z',
    ]);
    expect((await second.schedules.list())[0]).toMatchObject({
      runs: 4,
      nextRunAt: Date.parse('2026-04-01T07:00:00Z'),
    });
  });
});

describe('idempotency keys on SQLite', () => {
  it('a repeat after a restart returns the tasks of the first execute', async () => {
    const path = folder.file();
    const first = await started(path, { plugins: { classes: [Invoice] } });
    const original = await first.execute('invoice', { customer: 'ada' }, { idempotencyKey: 'inv-42' });
    await first.tasks.wait(original.tasks[0]!.id);
    await first.stop();

    const second = await started(path, { plugins: { classes: [Invoice] } });
    const repeat = await second.execute('invoice', { customer: 'ada' }, { idempotencyKey: 'inv-42' });
    expect(repeat).toMatchObject({
      replayed: true,
      tasks: [{ id: original.tasks[0]!.id, state: 'succeeded' }],
    });
    await expect(
      second.execute('invoice', { customer: 'grace' }, { idempotencyKey: 'inv-42' }),
    ).rejects.toMatchObject({ code: 'PLUGBOARD_IDEMPOTENCY_KEY_REUSED' });
    expect(created).toBe(1);
  });

  it('two connections to one file: concurrent executes with one key create the tasks once', async () => {
    const path = folder.file();
    const one = await started(path, { plugins: { classes: [Invoice] } });
    const two = await started(path, { plugins: { classes: [Invoice] } });
    const results = await Promise.allSettled([
      one.execute('invoice', { customer: 'ada' }, { idempotencyKey: 'race' }),
      two.execute('invoice', { customer: 'ada' }, { idempotencyKey: 'race' }),
    ]);
    expect(created).toBe(1);
    const ok = results.filter((r) => r.status === 'fulfilled');
    for (const r of results) {
      if (r.status === 'rejected')
        expect(r.reason).toMatchObject({ code: 'PLUGBOARD_IDEMPOTENCY_KEY_IN_USE' });
    }
    const again = await two.execute('invoice', { customer: 'ada' }, { idempotencyKey: 'race' });
    expect(again.replayed).toBe(true);
    expect(again.tasks[0]!.id).toBe((ok[0] as PromiseFulfilledResult<ExecuteResult>).value.tasks[0]!.id);
  });

  it('the window starts over after it passes, on the host clock', async () => {
    const path = folder.file();
    const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
    const host = await started(path, { clock, idempotencyWindowMs: 1000, plugins: { classes: [Invoice] } });
    await host.execute('invoice', { customer: 'ada' }, { idempotencyKey: 'w' });
    await clock.advance(1000);
    expect(
      (await host.execute('invoice', { customer: 'grace' }, { idempotencyKey: 'w' })).replayed,
    ).toBeUndefined();
    expect(created).toBe(2);
  });
});

describe('schema version 3', () => {
  it('a version 1 file is migrated to the newest version, keeping its schedules as delay and repeat schedules', async () => {
    const path = folder.file();
    const db = new Database(path);
    db.exec(migrations[0]!.sql);
    db.prepare(
      `INSERT INTO schedules (id, plugin_id, delay_seconds, repeat_seconds, next_run_at, last_run_at, last_task_ids,
        last_state, runs, created_at, updated_at) VALUES ('old', 'old', 30, 60, 5, NULL, '[]', NULL, 0, 1, 1)`,
    ).run();
    db.pragma('application_id = 1346523716'); // "PBRD", as version 1 left it
    db.pragma('user_version = 1');
    db.close();

    const store = sqliteStore({ path });
    await store.open();
    expect(await store.getSchedule('old')).toEqual({
      id: 'old',
      pluginId: 'old',
      delaySeconds: 30,
      repeatSeconds: 60,
      nextRunAt: 5,
      lastRunAt: null,
      lastTaskIds: [],
      lastState: null,
      runs: 0,
      createdAt: 1,
      updatedAt: 1,
    });
    await store.close();
    const check = new Database(path, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(
      check.prepare("SELECT name FROM sqlite_master WHERE name = 'idempotency_keys'").get(),
    ).toBeDefined();
    check.close();
  });
});
