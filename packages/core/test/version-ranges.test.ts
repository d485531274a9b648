import { ActionPlugin, createHost, PLUGBOARD_VERSION, satisfiesRange, Task, Type } from '@plugboard/core';
import { describe, expect, it } from 'vitest';

describe('hostVersion ranges follow npm semver', () => {
  it.each([
    ['1.2.0', '~1', true],
    ['2.0.0', '~1', false],
    ['2.0.0', '1.2.3 - 2.3.4', true],
    ['2.4.0', '1.2.3 - 2.3.4', false],
    ['1.0.0-rc.1', '>=1.0.0', false],
    ['1.0.0-rc.2', '>=1.0.0-rc.1', true],
    ['0.2.0', '^0.1.0', false],
    ['0.2.0', '>=0.0.0 <1.0.0', true],
    ['1.4.2', '1.x || >=3', true],
    ['2.0.0', '1.x || >=3', false],
  ])('%s satisfies %s: %s', (version, range, expected) => {
    expect(satisfiesRange(version, range)).toBe(expected);
  });

  it('an unparsable version or range satisfies nothing', () => {
    expect(satisfiesRange('one', '*')).toBe(false);
    expect(satisfiesRange('1.0.0', 'not a range')).toBe(false);
  });

  it('a plugin with a hyphen range around the running core is operational, one with a bad range is invalid', async () => {
    class Noop extends Task<Record<string, never>> {
      async run() {}
    }
    const definition = (id: string, hostVersion: string) =>
      ActionPlugin({ id, name: id, args: Type.Object({}), hostVersion, tasks: [Noop] });
    class InRange extends definition('in-range', `0.0.0 - ${PLUGBOARD_VERSION}`) {
      createTasks() {
        return [new Noop({})];
      }
    }
    class BadRange extends definition('bad-range', 'version one') {
      createTasks() {
        return [new Noop({})];
      }
    }
    const host = createHost({ plugins: { classes: [InRange, BadRange] } });
    await host.start();
    try {
      expect(host.plugins.get('in-range')?.status).toBe('operational');
      expect(host.plugins.get('bad-range')).toMatchObject({
        status: 'invalid',
        reason: expect.stringContaining('version one'),
      });
    } finally {
      await host.stop();
    }
  });
});
