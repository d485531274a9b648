import { describe, expect, it } from 'vitest';
import { createTaskId } from '../../src/ids.js';

describe('task ids', () => {
  it('are 21 characters: the time in base 36, a sequence within the millisecond and 8 random hex digits', () => {
    const now = Date.UTC(2026, 11, 1, 12, 0, 0);
    const id = createTaskId(now);
    expect(id).toMatch(/^[0-9a-z]{9}[0-9a-z]{4}[0-9a-f]{8}$/);
    expect(id.slice(0, 9)).toBe(now.toString(36).padStart(9, '0'));
  });

  it('sort by creation: later milliseconds after earlier ones, and within one millisecond by sequence', () => {
    const now = Date.UTC(2026, 11, 1, 12, 0, 1);
    const ids = [
      ...Array.from({ length: 40 }, () => createTaskId(now)),
      ...Array.from({ length: 3 }, () => createTaskId(now + 1)),
      createTaskId(now + 36),
    ];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    // The sequence counts in base 36 and starts again at each new millisecond.
    expect(ids.map((id) => id.slice(9, 13)).slice(35, 42)).toEqual([
      '000z',
      '0010',
      '0011',
      '0012',
      '0013',
      '0000',
      '0001',
    ]);
  });

  it('are distinct strings, each independent of the ones made before it', () => {
    const now = Date.UTC(2026, 11, 1, 12, 0, 2);
    const first = createTaskId(now);
    const copy = `${first}`;
    createTaskId(now);
    expect(first).toBe(copy);
    expect(first).not.toBe(createTaskId(now));
  });
});
