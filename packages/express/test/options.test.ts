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

  it('accept every option at its limit', () => {
    const router = plugboardRouter(host, {
      getUser,
      isAdmin: () => false,
      canSeePlugin: () => true,
      onError: () => {},
      ui: false,
      bodyLimit: 1,
      heartbeatMs: 1000,
      eventBufferSize: 1,
      eventBatchMs: 0,
      cancelWaitMs: 0,
    });
    expect(typeof router).toBe('function');
    router.close();
  });

  it('refuse values just past a limit, and name values of every kind', () => {
    expect(optionError(() => plugboardRouter(host, { getUser, heartbeatMs: 999 }))).toBe(
      'Expected `heartbeatMs` to be a number >= 1000, got `999` (number).',
    );
    expect(optionError(() => plugboardRouter(host, { getUser, eventBatchMs: -1 }))).toBe(
      'Expected `eventBatchMs` to be a number >= 0, got `-1` (number).',
    );
    expect(optionError(() => plugboardRouter(host, { getUser, cancelWaitMs: -1 }))).toBe(
      'Expected `cancelWaitMs` to be a number >= 0, got `-1` (number).',
    );
    expect(optionError(() => plugboardRouter(host, { getUser, bodyLimit: '10' as never }))).toBe(
      'Expected `bodyLimit` to be a number >= 1, got `"10"` (string).',
    );
    expect(optionError(() => plugboardRouter(host, { getUser, onError: null as never }))).toBe(
      'Expected `onError` to be a function, got `null` (null).',
    );
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(optionError(() => plugboardRouter(host, { getUser, canSeePlugin: circular as never }))).toBe(
      'Expected `canSeePlugin` to be a function, got `[object Object]` (object).',
    );
    expect(optionError(() => plugboardRouter(host, { getUser, isAdmin: 10n as never }))).toBe(
      'Expected `isAdmin` to be a function, got `10` (bigint).',
    );
    expect(optionError(() => plugboardRouter(host, { getUser: 'me' as never }))).toBe(
      'Expected `getUser` to be a function (req) => user, got `"me"` (string).',
    );
    expect(optionError(() => plugboardRouter(host, { getUser: class {} as never, ui: 1 as never }))).toBe(
      'Expected `ui` to be a boolean, got `1` (number).',
    );
    for (const options of [null, 'getUser', undefined]) {
      expect(optionError(() => plugboardRouter(host, options as never))).toBe(
        `Expected router options to be an object with \`getUser\`, got \`${options === undefined ? 'undefined' : JSON.stringify(options)}\` (${options === null ? 'null' : typeof options}).`,
      );
    }
  });

  it('with ui: true the page files are found next to the code', () => {
    const router = plugboardRouter(host, { getUser, ui: true });
    expect(typeof router).toBe('function');
    router.close();
  });
});
