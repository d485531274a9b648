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
