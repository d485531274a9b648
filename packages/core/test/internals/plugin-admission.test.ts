import type { PluginLimits, TaskRecord } from '@plugboard/core';
import { PluginAdmission } from '@plugboard/core/spi';
import { taskRecord } from '@plugboard/testing/contracts';
import { describe, expect, it } from 'vitest';

/** An admission over a runtime of `slots` slots, recording what starts and what is marked. */
function admission(slots: number, limits: Record<string, PluginLimits> = {}) {
  let running = 0;
  const started: string[] = [];
  const releases = new Map<string, () => void>();
  const marks: Array<[string, string | null]> = [];
  const gate = new PluginAdmission({
    limits: (id) => limits[id],
    hasCapacity: () => running < slots,
    now: () => Date.now(),
    markWaiting: (record, reason) => marks.push([record.id, reason]),
  });
  const admit = (record: TaskRecord) =>
    gate.admit(record, (release) => {
      running++;
      started.push(record.id);
      releases.set(record.id, release);
    });
  /** Ends a running task: its plugin's slot and the runtime's slot free, and the next one starts. */
  const end = (id: string) => {
    running--;
    releases.get(id)!();
    gate.drain();
  };
  return { gate, admit, end, started, marks };
}

const task = (pluginId: string, priority = 0) => taskRecord({ pluginId, priority });

describe('plugin admission', () => {
  it('starts at once while the runtime has a slot and nothing waits', () => {
    const a = admission(2);
    const one = task('p');
    a.admit(one);
    expect(a.started).toEqual([one.id]);
    expect(a.gate.waiting).toBe(0);
  });

  it('gives free slots to the plugins in turn, whatever their backlog', () => {
    const a = admission(1);
    const flood = Array.from({ length: 5 }, () => task('flood'));
    for (const t of flood) a.admit(t);
    const other = task('other');
    a.admit(other);
    a.end(flood[0]!.id);
    // The flooded plugin ran last: the other plugin's one task goes next.
    expect(a.started).toEqual([flood[0]!.id, other.id]);
    a.end(other.id);
    expect(a.started.at(-1)).toBe(flood[1]!.id);
  });

  it('starts the highest priority first, across plugins, then first come first served', () => {
    const a = admission(1);
    const first = task('a');
    a.admit(first);
    const low = task('a', 0);
    const high = task('b', 5);
    const higher = task('a', 9);
    for (const t of [low, high, higher]) a.admit(t);
    a.end(first.id);
    a.end(higher.id);
    a.end(high.id);
    expect(a.started).toEqual([first.id, higher.id, high.id, low.id]);
  });

  it('holds a plugin at its concurrency, marks why its tasks wait, and clears the mark when one starts', () => {
    const a = admission(4, { p: { concurrency: 1 } });
    const [one, two] = [task('p'), task('p')];
    a.admit(one);
    a.admit(two);
    expect(a.started).toEqual([one.id]);
    expect(a.marks).toEqual([[two.id, 'waiting for a slot of plugin p']]);
    a.end(one.id);
    expect(a.started).toEqual([one.id, two.id]);
    expect(a.marks.at(-1)).toEqual([two.id, null]);
  });

  it('withdraws a waiting task, which then never starts', () => {
    const a = admission(1);
    const [one, two, three] = [task('p'), task('p'), task('p')];
    for (const t of [one, two, three]) a.admit(t);
    expect(a.gate.withdraw(two.id)).toBe(true);
    expect(a.gate.withdraw('unknown')).toBe(false);
    a.end(one.id);
    expect(a.started).toEqual([one.id, three.id]);
  });

  it('starts a rate-limited plugin’s next task once its oldest start leaves the window', async () => {
    const a = admission(4, { p: { intervalCap: 1, intervalMs: 80 } });
    const [one, two] = [task('p'), task('p')];
    const t0 = Date.now();
    a.admit(one);
    a.admit(two);
    expect(a.started).toEqual([one.id]);
    while (a.started.length < 2 && Date.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 5));
    expect(a.started).toEqual([one.id, two.id]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(80);
  });
});
