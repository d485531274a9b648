import type { TaskStore } from '@plugboard/core';
import type { IdempotencyRecord } from '@plugboard/core/spi';
import { describe, expect, it } from 'vitest';

let claims = 0;

/** A claim of the key `5:alice:order-1`, each with its own claim id. */
function key(overrides: Partial<IdempotencyRecord> = {}): IdempotencyRecord {
  return {
    key: '5:alice:order-1',
    claimId: `claim-${++claims}`,
    pluginId: 'greet',
    fingerprint: 'fp-1',
    taskIds: null,
    createdAt: 1_000_000,
    expiresAt: 1_000_000 + 3_600_000,
    ...overrides,
  };
}

/** The idempotency-key cases of the store contract; `store` returns the test's open store. */
export function describeIdempotencyKeyContract(store: () => TaskStore): void {
  describe('idempotency keys', () => {
    const claim = (record: IdempotencyRecord, reclaimPendingBefore = 0) => {
      const s = store();
      expect(s.claimIdempotencyKey, `${s.name} implements claimIdempotencyKey`).toBeTypeOf('function');
      return s.claimIdempotencyKey!(record, reclaimPendingBefore);
    };
    const settle = (record: IdempotencyRecord, taskIds: readonly string[] | null) =>
      store().settleIdempotencyKey!(record.key, record.claimId, taskIds);

    it('the first claim of a key stores it and returns it', async () => {
      const first = key();
      expect(await claim(first)).toEqual(first);
    });

    it('a second claim gets the first one back, with the tasks it settled', async () => {
      const first = key();
      await claim(first);
      await settle(first, ['t1', 't2']);
      const second = key({ fingerprint: 'fp-2', createdAt: first.createdAt + 10 });
      expect(await claim(second)).toEqual({ ...first, taskIds: ['t1', 't2'] });
    });

    it('two claims in the same millisecond with the same request: the first holds the key', async () => {
      const first = key();
      await claim(first);
      expect(await claim(key())).toEqual(first);
    });

    it('a pending claim holds the key until it is abandoned', async () => {
      const first = key();
      await claim(first);
      const later = key({ createdAt: first.createdAt + 10 });
      expect(await claim(later, first.createdAt)).toEqual(first);
      const takeover = key({ createdAt: first.createdAt + 20 });
      expect(await claim(takeover, first.createdAt + 1)).toEqual(takeover);
      // The abandoned claim settling late changes nothing.
      await settle(first, ['late']);
      expect(await claim(key({ createdAt: first.createdAt + 30 }), 0)).toEqual(takeover);
    });

    it('an expired key is claimed anew', async () => {
      const first = key();
      await claim(first);
      await settle(first, ['t1']);
      const next = key({
        createdAt: first.expiresAt,
        expiresAt: first.expiresAt + 1000,
        fingerprint: 'fp-3',
      });
      expect(await claim(next)).toEqual(next);
    });

    it('releasing a claim frees the key; releasing it again changes nothing', async () => {
      const first = key();
      await claim(first);
      await settle(first, null);
      const next = key({ createdAt: first.createdAt + 5, fingerprint: 'fp-4' });
      expect(await claim(next)).toEqual(next);
      await settle(first, null);
      expect(await claim(key({ createdAt: first.createdAt + 6 }))).toEqual(next);
    });

    it('keeps keys apart, and a settled empty task list as empty', async () => {
      const a = key({ key: 'a' });
      const b = key({ key: 'b', fingerprint: 'fp-b' });
      await claim(a);
      await claim(b);
      await settle(a, []);
      expect(await claim(key({ key: 'a', createdAt: a.createdAt + 1 }))).toEqual({ ...a, taskIds: [] });
      expect(await claim(key({ key: 'b', createdAt: b.createdAt + 1 }))).toEqual(b);
    });
  });
}
