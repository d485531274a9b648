import { readFileSync } from 'node:fs';
import { errorCatalogue, isPlugboardError, PlugboardError } from '@plugboard/core';
import { describe, expect, it } from 'vitest';

const docs = readFileSync(new URL('../../../docs/reference/errors.md', import.meta.url), 'utf8');

describe('the error catalogue', () => {
  it('matches docs/reference/errors.md code for code, with the same status', () => {
    const documented = [...docs.matchAll(/^\|\s*`(PLUGBOARD_[A-Z_]+)`\s*\|\s*(\d+)\s*\|/gm)].map((m) => [
      m[1],
      Number(m[2]),
    ]);
    const catalogue = Object.entries(errorCatalogue).map(([code, entry]) => [code, entry.status]);
    expect(documented).toEqual(catalogue);
  });

  it('keeps the cause, the code, the status and the details of an error', () => {
    const cause = new Error('disk');
    const error = new PlugboardError('PLUGBOARD_STORE_UNAVAILABLE', 'The store is down.', {
      cause,
      details: { path: '/x' },
    });
    expect(error).toMatchObject({
      code: 'PLUGBOARD_STORE_UNAVAILABLE',
      status: 503,
      cause,
      details: { path: '/x' },
    });
    expect(isPlugboardError(error, 'PLUGBOARD_STORE_UNAVAILABLE')).toBe(true);
    expect(isPlugboardError(error, 'PLUGBOARD_UNKNOWN_TASK')).toBe(false);
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      code: 'PLUGBOARD_STORE_UNAVAILABLE',
      message: 'The store is down.',
      details: { path: '/x' },
    });
  });
});
