import { endPatch, nextAttempt, recoverCrashed, retryDelay } from '@plugboard/core/spi';
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
