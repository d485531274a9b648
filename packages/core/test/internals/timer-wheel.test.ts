import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../testing/src/fake-clock.js';
import { TimerWheel } from '../../src/schedules/scheduler.js';

describe('the timer wheel', () => {
  it('holds one clock timer for 10,000 schedules and fires each at its time, in order', async () => {
    const clock = new FakeClock(0);
    const fired: Array<[string, number]> = [];
    const wheel = new TimerWheel(clock, (id, at) => fired.push([id, at]));
    for (let i = 0; i < 10_000; i++) wheel.set(`s${i}`, 1000 + ((i * 7919) % 10_000));
    expect(clock.pendingTimers).toBe(1);
    expect(wheel.size).toBe(10_000);
    await clock.advance(20_000);
    expect(fired).toHaveLength(10_000);
    const times = fired.map(([, at]) => at);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(clock.pendingTimers).toBe(0);
  });

  it('moves and clears schedules without firing stale entries', async () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    const wheel = new TimerWheel(clock, (id) => fired.push(id));
    wheel.set('a', 100);
    wheel.set('b', 200);
    wheel.set('a', 300);
    wheel.set('b', null);
    await clock.advance(250);
    expect(fired).toEqual([]);
    await clock.advance(100);
    expect(fired).toEqual(['a']);
    wheel.stop();
    wheel.set('c', 10);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('the timer wheel at its edges', () => {
  /** A fake clock that also records every delay it is asked for. */
  const recording = (start: number) => {
    const clock = new FakeClock(start);
    const delays: number[] = [];
    const setTimeout = clock.setTimeout.bind(clock);
    clock.setTimeout = (callback: () => void, ms: number) => {
      delays.push(ms);
      return setTimeout(callback, ms);
    };
    return { clock, delays };
  };

  it('fires a schedule due exactly now, and one already past due at once', async () => {
    const { clock, delays } = recording(1000);
    const fired: Array<[string, number]> = [];
    const wheel = new TimerWheel(clock, (id, at) => fired.push([id, at]));
    wheel.set('late', 400);
    expect(delays).toEqual([0]);
    await clock.advance(0);
    expect(fired).toEqual([['late', 400]]);
    wheel.set('on-time', 1100);
    await clock.advance(99);
    expect(fired).toHaveLength(1);
    await clock.advance(1);
    expect(fired).toEqual([
      ['late', 400],
      ['on-time', 1100],
    ]);
  });

  it('waits for a schedule weeks away in steps no Node.js timer overflows on, and fires it on time', async () => {
    const { clock, delays } = recording(0);
    const fired: number[] = [];
    const wheel = new TimerWheel(clock, (_id, at) => fired.push(clock.now() - at));
    const inThirtyDays = 30 * 24 * 3_600_000;
    wheel.set('monthly', inThirtyDays);
    expect(delays).toEqual([2_147_483_647]);
    await clock.advance(2_147_483_647);
    expect(fired).toEqual([]);
    expect(clock.pendingTimers).toBe(1);
    expect(wheel.dueAt('monthly')).toBe(inThirtyDays);
    await clock.advance(inThirtyDays - 2_147_483_647);
    expect(fired).toEqual([0]);
    expect(delays.every((ms) => ms >= 0 && ms <= 2_147_483_647)).toBe(true);
  });

  it('re-arms for an earlier schedule, and forgets each schedule once it fired', async () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    const wheel = new TimerWheel(clock, (id) => fired.push(id));
    wheel.set('later', 500);
    wheel.set('sooner', 100);
    expect(clock.pendingTimers).toBe(1);
    expect([wheel.dueAt('sooner'), wheel.dueAt('later'), wheel.size]).toEqual([100, 500, 2]);
    await clock.advance(100);
    expect(fired).toEqual(['sooner']);
    expect([wheel.dueAt('sooner'), wheel.size, clock.pendingTimers]).toEqual([undefined, 1, 1]);
    wheel.set('sooner', 200);
    await clock.advance(400);
    expect(fired).toEqual(['sooner', 'sooner', 'later']);
    expect([wheel.size, clock.pendingTimers]).toEqual([0, 0]);
  });

  it('fires schedules due at the same time together, and one cleared meanwhile not at all', async () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    const wheel = new TimerWheel(clock, (id) => fired.push(id));
    for (const id of ['a', 'b', 'c', 'd', 'e']) wheel.set(id, 100);
    wheel.set('c', null);
    expect(wheel.size).toBe(4);
    await clock.advance(100);
    expect(fired.sort()).toEqual(['a', 'b', 'd', 'e']);
  });

  it('keeps its order through many moves, clears and refills', async () => {
    const clock = new FakeClock(0);
    const fired: Array<[string, number]> = [];
    const wheel = new TimerWheel(clock, (id, at) => fired.push([id, at]));
    const expected = new Map<string, number>();
    let seed = 7;
    const random = () => {
      seed = (seed * 48_271) % 2_147_483_647;
      return seed;
    };
    for (let i = 0; i < 2000; i++) {
      const id = `s${random() % 300}`;
      const at = 1 + (random() % 5000);
      if (random() % 5 === 0) {
        wheel.set(id, null);
        expected.delete(id);
      } else {
        wheel.set(id, at);
        expected.set(id, at);
      }
    }
    expect(wheel.size).toBe(expected.size);
    for (let t = 0; t < 5000; t += 250) await clock.advance(250);
    expect(fired.map(([, at]) => at)).toEqual([...expected.values()].sort((a, b) => a - b));
    expect(new Map(fired)).toEqual(expected);
  });

  it('stops with a timer pending: nothing fires afterwards and no timer is left', async () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    const wheel = new TimerWheel(clock, (id) => fired.push(id));
    wheel.set('a', 100);
    wheel.stop();
    expect([clock.pendingTimers, wheel.size, wheel.dueAt('a')]).toEqual([0, 0, undefined]);
    await clock.advance(1000);
    expect(fired).toEqual([]);
  });
});
