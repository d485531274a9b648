import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  createHost,
  type Host,
  type ScheduleRecord,
  type TaskLogEntry,
  type TaskRecord,
} from '@plugboard/core';
import { sqliteStore } from '@plugboard/sqlite';
import { FakeClock } from '@plugboard/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { crashPlugins } from './fixtures/crash-plugins.js';
import { tempDatabaseFolder } from './temp-db.js';

const folder = tempDatabaseFolder('plugboard-crash-');
afterAll(() => folder.remove());

const hosts: Host[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop({ timeoutMs: 200 })));
});

/** What the child printed once its tasks had committed their first lines. */
interface ReadyLine {
  readonly chatty: string;
  readonly resumable: string;
  readonly doubles: readonly string[];
  readonly tasks: readonly TaskRecord[];
  readonly logs: Readonly<Record<string, readonly TaskLogEntry[]>>;
  readonly schedule: ScheduleRecord;
}

const fixture = fileURLToPath(new URL('./fixtures/crash-host.mjs', import.meta.url));

/**
 * Runs a host in a child process on `path`, waits for its `ready` line, lets it keep writing for `afterReadyMs`,
 * then kills it with SIGKILL: no shutdown, no flush, no close.
 */
function runAndKill(path: string, afterReadyMs: number): Promise<ReadyLine> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture, path, '30'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let ready: ReadyLine | undefined;
    const giveUp = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the crash host never became ready; stderr:\n${stderr}`));
    }, 15_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const newline = stdout.indexOf('\n');
      if (ready || newline === -1) return;
      ready = JSON.parse(stdout.slice(0, newline)) as ReadyLine;
      setTimeout(() => child.kill('SIGKILL'), afterReadyMs);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('exit', (code, signal) => {
      clearTimeout(giveUp);
      if (ready && signal === 'SIGKILL') resolve(ready);
      else
        reject(
          new Error(`the crash host exited (${code ?? signal}) before it was killed; stderr:\n${stderr}`),
        );
    });
  });
}

/** The log of a task as a list, checked to be numbered 1..n without a gap or a repeat. */
function expectContiguous(lines: readonly TaskLogEntry[]): void {
  expect(lines.map((l) => l.seq)).toEqual(lines.map((_, i) => i + 1));
}

describe('crash recovery on an SQLite file', () => {
  it('a host killed with SIGKILL mid-run loses nothing it wrote, and a new host recovers every task', async () => {
    const path = folder.file('crash');
    const before = await runAndKill(path, 30);

    const clock = new FakeClock();
    const host = createHost({
      env: false,
      argv: [],
      store: sqliteStore({ path }),
      clock,
      plugins: { classes: crashPlugins },
    });
    hosts.push(host);
    const report = await host.start();

    // Running, not retry-safe: interrupted. Running, retry-safe: queued again. Queued: queued again.
    expect(report.recovery.interrupted).toBe(1);
    expect(report.recovery.requeued).toBe(1);
    expect(report.recovery.resumed).toBeGreaterThanOrEqual(3);

    const resumable = await host.tasks.wait(before.resumable);
    const doubles = await Promise.all(before.doubles.map((id) => host.tasks.wait(id)));
    const chatty = (await host.tasks.get(before.chatty))!;

    // Every record the child had committed is there, with what it was created from.
    for (const written of before.tasks) {
      const now = await host.tasks.get(written.id);
      expect(now, `task ${written.id} (${written.pluginId})`).toBeDefined();
      expect(now).toMatchObject({
        pluginId: written.pluginId,
        taskType: written.taskType,
        input: written.input,
        user: written.user,
        createdAt: written.createdAt,
      });
    }

    // The interrupted task: every line written before the kill, in order, once, then the recovery note.
    expect(chatty).toMatchObject({ state: 'interrupted', error: { code: 'PLUGBOARD_TASK_INTERRUPTED' } });
    const chattyLog = await host.tasks.logs(chatty.id, { limit: 5000 });
    expectContiguous(chattyLog);
    expect(chattyLog.slice(0, before.logs[chatty.id]!.length)).toEqual(before.logs[chatty.id]);
    const chattyWork = chattyLog.slice(0, -1);
    expect(chattyWork.length).toBeGreaterThanOrEqual(30);
    expect(chattyWork.map((l) => l.message)).toEqual(chattyWork.map((_, i) => `chatty line ${i + 1}`));
    expect(chattyLog.at(-1)).toMatchObject({
      level: 'always',
      message: 'The process running this task stopped before it finished.',
    });
    expect(chatty.logCount).toBe(chattyLog.length);

    // The retry-safe task ran again as attempt 2 and finished, its first attempt's lines kept.
    expect(resumable).toMatchObject({ state: 'succeeded', attempt: 2, result: { finishedOnAttempt: 2 } });
    const resumableLog = await host.tasks.logs(resumable.id, { limit: 5000 });
    expectContiguous(resumableLog);
    expect(resumableLog.slice(0, before.logs[resumable.id]!.length)).toEqual(before.logs[resumable.id]);
    const firstAttempt = resumableLog.slice(0, -2);
    expect(firstAttempt.map((l) => l.message)).toEqual(firstAttempt.map((_, i) => `resumable line ${i + 1}`));
    expect(resumableLog.slice(-2).map((l) => l.message)).toEqual([
      'The process running this task stopped; the task type is retry-safe, so it runs again.',
      'resumable resumed on attempt 2',
    ]);

    // Queued tasks ran exactly once.
    expect(doubles.map((t) => [t.state, t.attempt, t.result])).toEqual([
      ['succeeded', 1, { doubled: 2 }],
      ['succeeded', 1, { doubled: 4 }],
      ['succeeded', 1, { doubled: 6 }],
    ]);
    for (const task of doubles) {
      expect((await host.tasks.logs(task.id)).map((l) => l.message)).toEqual([
        `doubling ${(task.input as { n: number }).n}`,
      ]);
    }

    // The schedule kept its history, was armed once (one timer) and fires once per due time.
    const [rearmed] = await host.schedules.list();
    expect(rearmed).toMatchObject({ id: 'heartbeat', runs: before.schedule.runs, nextRunAt: clock.now() });
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(0);
    const beats = (await host.tasks.list({ plugin: 'heartbeat' })).items;
    expect(beats).toHaveLength(before.schedule.runs + 1);
    await Promise.all(beats.map((t) => host.tasks.wait(t.id)));
    expect((await host.schedules.list())[0]).toMatchObject({ runs: before.schedule.runs + 1 });
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(3_599_000);
    expect((await host.tasks.list({ plugin: 'heartbeat' })).items).toHaveLength(before.schedule.runs + 1);

    // Nothing was duplicated: the tasks are the child's, plus the one new heartbeat.
    const all = (await host.tasks.list({ limit: 500 })).items;
    expect(all).toHaveLength(before.tasks.length + 1);
    expect(new Set(all.map((t) => t.id)).size).toBe(all.length);
  });

  it('a second crash right after recovery still keeps every line, numbered without a repeat', async () => {
    const path = folder.file('crash-twice');
    await runAndKill(path, 0);
    const again = await runAndKill(path, 10);

    const host = createHost({
      env: false,
      argv: [],
      store: sqliteStore({ path }),
      clock: new FakeClock(),
      plugins: { classes: crashPlugins },
    });
    hosts.push(host);
    await host.start();
    const chattyTasks = (await host.tasks.list({ plugin: 'chatty' })).items;
    expect(chattyTasks).toHaveLength(2);
    for (const task of chattyTasks) {
      expect(task.state).toBe('interrupted');
      const log = await host.tasks.logs(task.id, { limit: 5000 });
      expectContiguous(log);
      expect(log.filter((l) => l.level === 'always')).toHaveLength(1);
      expect(task.logCount).toBe(log.length);
    }
    const latest = await host.tasks.logs(again.chatty, { limit: 5000 });
    expect(latest.slice(0, again.logs[again.chatty]!.length)).toEqual(again.logs[again.chatty]);
  });
});
