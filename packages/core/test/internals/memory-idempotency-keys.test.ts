import { describe, expect, it } from 'vitest';
import { MemoryIdempotencyKeys } from '../../src/store/memory-idempotency-keys.js';

const claim = (key: string, createdAt: number, windowMs = 1000) => ({
  key,
  claimId: `${key}@${createdAt}`,
  pluginId: 'p',
  fingerprint: 'f',
  taskIds: null,
  createdAt,
  expiresAt: createdAt + windowMs,
});

describe('the memory store’s idempotency keys', () => {
  it('drop expired keys as claims go on, so a host executing with new keys keeps memory flat', () => {
    const keys = new MemoryIdempotencyKeys();
    for (let i = 0; i < 5000; i++) keys.claim(claim(`k${i}`, i * 10), 0);
    // Each key lives 1000 ms (100 claims); the sweep every 1024 claims leaves at most about two sweeps' worth.
    expect(keys.size).toBeLessThan(1200);
    expect(keys.size).toBeGreaterThanOrEqual(100);
  });

  it('keep a key until it expires, however many other claims come', () => {
    const keys = new MemoryIdempotencyKeys();
    const held = claim('kept', 0, 1_000_000);
    keys.claim(held, 0);
    keys.settle('kept', held.claimId, ['t1']);
    for (let i = 1; i <= 3000; i++) keys.claim(claim(`k${i}`, i), 0);
    expect(keys.claim(claim('kept', 3001), 0)).toEqual({ ...held, taskIds: ['t1'] });
  });
});
