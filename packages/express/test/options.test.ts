import { createHost, isPlugboardError } from '@plugboard/core';
import { plugboardRouter } from '@plugboard/express';
import { describe, expect, it } from 'vitest';

const host = createHost({ env: false, argv: [] });
const getUser = () => ({ id: 'u' });

function optionError(build: () => unknown): string {
  try {
    build();
  } catch (error) {
    expect(isPlugboardError(error, 'PLUGBOARD_INVALID_OPTION')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected the router to refuse its options');
}

describe('router options', () => {
  it('are checked when the router is built, with the value that was wrong', () => {
    expect(optionError(() => plugboardRouter(host, { getUser, heartbeatMs: 0 }))).toBe(
      'Expected `heartbeatMs` to be a number >= 1000, got `0` (number).',
    );
    expect(optionError(() => plugboardRouter(host, { getUser, bodyLimit: -5 }))).toBe(
      'Expected `bodyLimit` to be a number >= 1, got `-5` (number).',
    );
    expect(optionError(() => plugboardRouter(host, { getUser, eventBufferSize: 1.5 }))).toBe(
      'Expected `eventBufferSize` to be a number >= 1, got `1.5` (number).',
    );
    expect(optionError(() => plugboardRouter(host, { getUser, ui: 'yes' as never }))).toBe(
      'Expected `ui` to be a boolean, got `"yes"` (string).',
    );
    expect(optionError(() => plugboardRouter(host, { getUser, isAdmin: true as never }))).toBe(
      'Expected `isAdmin` to be a function, got `true` (boolean).',
    );
  });

  it('need getUser and a host', () => {
    expect(optionError(() => plugboardRouter(host, {} as never))).toBe(
      'Expected `getUser` to be a function (req) => user, got `undefined` (undefined).',
    );
    expect(optionError(() => plugboardRouter({} as never, { getUser }))).toMatch(
      /Expected `host` to be a Plugboard host/,
    );
  });

  it('with ui: true the page files are found next to the code', () => {
    const router = plugboardRouter(host, { getUser, ui: true });
    expect(typeof router).toBe('function');
    router.close();
  });
});
