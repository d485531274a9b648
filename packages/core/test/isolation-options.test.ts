import { ActionPlugin, createHost, Task, Type } from '@plugboard/core';
import { describe, expect, it } from 'vitest';

class Noop extends Task {
  run() {
    return null;
  }
}

function pluginWith(extra: Record<string, unknown>) {
  return class extends ActionPlugin({
    id: 'odd',
    name: 'Odd',
    args: Type.Object({}),
    tasks: [Noop],
    ...extra,
  }) {
    createTasks() {
      return new Noop({});
    }
  };
}

describe('isolation options', () => {
  it('refuses an unknown mode, a bad grace period, memory limit or allowance when the host is created', () => {
    expect(() => createHost({ isolation: 'fast' as never })).toThrow(
      /Expected `isolation` to be one of 'none', 'thread', 'process', got `"fast"` \(string\)/,
    );
    expect(() => createHost({ isolation: { graceMs: -1 } })).toThrow(
      /Expected `isolation.graceMs` to be an integer >= 0, got `-1` \(number\)/,
    );
    expect(() => createHost({ isolation: { memoryLimitMb: 4 } })).toThrow(
      /Expected `isolation.memoryLimitMb` to be an integer >= 16/,
    );
    expect(() => createHost({ isolation: { allow: { read: 'everything' as never } } })).toThrow(
      /Expected `isolation.allow.read` to be a list of paths/,
    );
  });

  it('reports a plugin whose isolation or access declaration is wrong as invalid', async () => {
    const host = createHost({
      env: false,
      argv: [],
      plugins: { classes: [pluginWith({ isolation: 'sandbox' })] },
    });
    try {
      expect((await host.start()).plugins[0]).toMatchObject({
        id: 'odd',
        status: 'invalid',
        code: 'PLUGBOARD_INVALID_PLUGIN',
        reason: expect.stringContaining('isolation of plugin `odd`'),
      });
    } finally {
      await host.stop();
    }
    const other = createHost({
      env: false,
      argv: [],
      plugins: { classes: [pluginWith({ access: { read: [42] } })] },
    });
    try {
      expect((await other.start()).plugins[0]).toMatchObject({ status: 'invalid' });
    } finally {
      await other.stop();
    }
  });

  it('shows the mode and the access a plugin declared, resolved from the host folder', async () => {
    const host = createHost({
      env: false,
      argv: [],
      cwd: '/srv/app',
      plugins: {
        classes: [pluginWith({ isolation: 'none', access: { read: ['data'], write: ['/tmp/out'] } })],
      },
    });
    await host.start();
    try {
      const access = { read: ['/srv/app/data'], write: ['/tmp/out'], childProcess: false, workers: false };
      expect(host.plugins.get('odd')?.isolation).toEqual({
        mode: 'none',
        note: null,
        declared: access,
        granted: access,
      });
    } finally {
      await host.stop();
    }
  });
});
