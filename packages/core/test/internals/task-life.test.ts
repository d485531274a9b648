import { endPatch, nextAttempt, nextAttemptPatch, recoverCrashed, retryDelay } from '@plugboard/core/spi';
import { taskRecord } from '@plugboard/testing/contracts';
import { describe, expect, it } from 'vitest';

describe('the rules of a task life', () => {
  it('queues the next attempt afresh, with the error that ended the previous one', () => {
    const failed = taskRecord({ state: 'failed', attempt: 1, maxAttempts: 3, startedAt: 1, finishedAt: 2 });
    const error = { code: 'BOOM', message: 'boom' };
    expect(nextAttempt(failed, error)).toMatchObject({
      state: 'queued',
      attempt: 2,
      startedAt: null,
      finishedAt: null,
      error,
    });
  });

  it('writes every field a finished task shows', () => {
    const done = taskRecord({ state: 'succeeded', result: { ok: true }, progress: 100, finishedAt: 5 });
    expect(endPatch(done)).toMatchObject({
      state: 'succeeded',
      result: { ok: true },
      progress: 100,
      finishedAt: 5,
    });
  });

  it('runs a crashed retry-safe task again, at least three attempts in all, and interrupts the rest', () => {
    const running = taskRecord({ state: 'running', attempt: 2, maxAttempts: 1, logCount: 4 });
    const rerun = recoverCrashed(running, { retrySafe: true, runner: 'process', now: 9, lastLogSeq: 6 });
    expect(rerun.rerun).toBe(true);
    expect(rerun.record).toMatchObject({ state: 'queued', attempt: 3, logCount: 7 });
    expect(rerun.log).toMatchObject({ seq: 7, level: 'always' });

    const third = recoverCrashed(
      { ...running, attempt: 3 },
      { retrySafe: true, runner: 'worker', now: 9, lastLogSeq: 6 },
    );
    expect(third.rerun).toBe(false);
    expect(third.record).toMatchObject({ state: 'interrupted', finishedAt: 9 });
    expect(third.log.message).toBe('The worker running this task stopped before it finished.');

    const unsafe = recoverCrashed(running, { retrySafe: false, runner: 'process', now: 9, lastLogSeq: 6 });
    expect(unsafe.record.error?.code).toBe('PLUGBOARD_TASK_INTERRUPTED');
  });

  it('backs off exponentially by default and stops when no attempt is left', () => {
    expect(retryDelay(undefined, 1, 3)).toBe(1000);
    expect(retryDelay(undefined, 2, 3)).toBe(2000);
    expect(retryDelay({ attempts: 3, backoff: { type: 'fixed', delayMs: 50 } }, 2, 3)).toBe(50);
    expect(retryDelay(undefined, 3, 3)).toBeUndefined();
  });
});

describe('the rules of a task life, field by field', () => {
  it('the next attempt keeps everything else, and numbers its log after the given line', () => {
    const failed = taskRecord({
      state: 'failed',
      attempt: 2,
      maxAttempts: 4,
      startedAt: 10,
      finishedAt: 20,
      progress: 60,
      logCount: 8,
      result: null,
    });
    const error = { code: 'BOOM', message: 'boom' };
    expect(nextAttempt(failed, error)).toEqual({
      ...failed,
      state: 'queued',
      attempt: 3,
      startedAt: null,
      finishedAt: null,
      logCount: 8,
      error,
    });
    expect(nextAttempt(failed, null, 11)).toMatchObject({ logCount: 11, error: null });
  });

  it('a store writes exactly the fields that change for the next attempt', () => {
    const next = nextAttempt(
      taskRecord({ state: 'failed', attempt: 1, maxAttempts: 2, startedAt: 1, finishedAt: 2, logCount: 3 }),
      { code: 'BOOM', message: 'boom' },
    );
    expect(nextAttemptPatch(next)).toEqual({
      state: 'queued',
      attempt: 2,
      startedAt: null,
      finishedAt: null,
      error: { code: 'BOOM', message: 'boom' },
      logCount: 3,
    });
  });

  it('a store writes exactly the fields a finished task shows', () => {
    const done = taskRecord({
      state: 'failed',
      attempt: 3,
      maxAttempts: 3,
      startedAt: 4,
      finishedAt: 5,
      result: null,
      error: { code: 'BOOM', message: 'boom' },
      progress: 35,
      progressMessage: 'a third',
      statusText: 'copying',
      logCount: 12,
    });
    expect(endPatch(done)).toEqual({
      state: 'failed',
      attempt: 3,
      startedAt: 4,
      finishedAt: 5,
      result: null,
      error: { code: 'BOOM', message: 'boom' },
      progress: 35,
      progressMessage: 'a third',
      statusText: 'copying',
      logCount: 12,
    });
  });

  it('backs off from the policy: doubling from its delay, or fixed, and never longer than a timer holds', () => {
    const exponential = { attempts: 9, backoff: { type: 'exponential', delayMs: 300 } } as const;
    expect([1, 2, 3, 4].map((attempt) => retryDelay(exponential, attempt, 9))).toEqual([
      300, 600, 1200, 2400,
    ]);
    const fixed = { attempts: 9, backoff: { type: 'fixed', delayMs: 300 } } as const;
    expect([1, 2, 3].map((attempt) => retryDelay(fixed, attempt, 9))).toEqual([300, 300, 300]);
    // A policy without a backoff doubles from one second.
    expect(retryDelay({ attempts: 5 }, 3, 5)).toBe(4000);
    expect(retryDelay(undefined, 40, 50)).toBe(2_147_483_647);
    expect(retryDelay(fixed, 1, 1)).toBeUndefined();
    expect(retryDelay(fixed, 4, 3)).toBeUndefined();
  });

  it('a crashed retry-safe task runs again up to its own attempts when it allows more than three', () => {
    const facts = { retrySafe: true, runner: 'process', now: 9, lastLogSeq: 6 } as const;
    const running = taskRecord({ state: 'running', attempt: 4, maxAttempts: 5, startedAt: 3, logCount: 5 });
    const verdict = recoverCrashed(running, facts);
    const message = 'The process running this task stopped; the task type is retry-safe, so it runs again.';
    const error = { code: 'PLUGBOARD_TASK_INTERRUPTED', message };
    expect(verdict.rerun).toBe(true);
    expect(verdict.log).toEqual({ seq: 7, time: 9, level: 'always', message });
    const next = {
      ...running,
      state: 'queued',
      attempt: 5,
      startedAt: null,
      finishedAt: null,
      logCount: 7,
      error,
    };
    expect(verdict.record).toEqual(next);
    expect(verdict.patch).toEqual(next);
    expect(recoverCrashed({ ...running, attempt: 5 }, facts).rerun).toBe(false);
    expect(recoverCrashed({ ...running, attempt: 2, maxAttempts: 1 }, facts).rerun).toBe(true);
  });

  it('a crashed task that may not run again is recorded interrupted, its log line after the last one', () => {
    const running = taskRecord({ state: 'running', attempt: 1, maxAttempts: 3, startedAt: 3, logCount: 2 });
    const verdict = recoverCrashed(running, { retrySafe: false, runner: 'worker', now: 40, lastLogSeq: 2 });
    const message = 'The worker running this task stopped before it finished.';
    const error = { code: 'PLUGBOARD_TASK_INTERRUPTED', message };
    expect(verdict.rerun).toBe(false);
    expect(verdict.log).toEqual({ seq: 3, time: 40, level: 'always', message });
    expect(verdict.patch).toEqual({ state: 'interrupted', finishedAt: 40, logCount: 3, error });
    expect(verdict.record).toEqual({ ...running, state: 'interrupted', finishedAt: 40, logCount: 3, error });
    const byProcess = recoverCrashed(running, {
      retrySafe: false,
      runner: 'process',
      now: 40,
      lastLogSeq: 2,
    });
    expect(byProcess.log.message).toBe('The process running this task stopped before it finished.');
  });
});
