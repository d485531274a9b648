import { fileURLToPath } from 'node:url';
import {
  ActionPlugin,
  createHost,
  type Host,
  type HostOptions,
  memoryStore,
  Task,
  type TaskStore,
  Type,
} from '@plugboard/core';
import { FakeClock } from '@plugboard/testing';
import { afterEach, describe, expect, it } from 'vitest';

const hosts: Host[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop({ timeoutMs: 100 })));
});

class SendTask extends Task<{ to: string; copy: number }> {
  async run() {
    return { sent: this.input.to };
  }
}

let created = 0;
let failCreate = false;
let holdCreate: Promise<void> | undefined;

class Send extends ActionPlugin({
  id: 'send',
  name: 'Send',
  args: Type.Object({ to: Type.String(), copies: Type.Optional(Type.Integer({ minimum: 1 })) }),
  tasks: [SendTask],
}) {
  async createTasks(args: { to: string; copies?: number }) {
    if (holdCreate) await holdCreate;
    if (failCreate) throw new Error('mail server down');
    created += args.copies ?? 1;
    return Array.from({ length: args.copies ?? 1 }, (_, copy) => new SendTask({ to: args.to, copy }));
  }
}

afterEach(() => {
  created = 0;
  failCreate = false;
  holdCreate = undefined;
});

async function started(options: Partial<HostOptions> = {}): Promise<Host> {
  const host = createHost({ env: false, argv: [], plugins: { classes: [Send] }, ...options });
  hosts.push(host);
  await host.start();
  return host;
}

const alice = { id: 'alice', permissions: [] };
const bob = { id: 'bob', permissions: [] };

describe('executes with an idempotency key', () => {
  it('a repeat returns the tasks of the first execute and creates none', async () => {
    const host = await started();
    const first = await host.execute(
      'send',
      { to: 'ada', copies: 2 },
      { user: alice, idempotencyKey: 'order-1' },
    );
    expect(first.tasks).toHaveLength(2);
    expect(first.replayed).toBeUndefined();
    await host.tasks.wait(first.tasks[1]!.id);
    // The same arguments with their keys in another order are the same request.
    const again = await host.execute(
      'send',
      { copies: 2, to: 'ada' },
      { user: alice, idempotencyKey: 'order-1' },
    );
    expect(again.replayed).toBe(true);
    expect(again.tasks.map((t) => t.id)).toEqual(first.tasks.map((t) => t.id));
    expect(again.tasks[1]).toMatchObject({ state: 'succeeded', result: { sent: 'ada' } });
    expect(created).toBe(2);
    expect((await host.tasks.list({ plugin: 'send' })).items).toHaveLength(2);
  });

  it('a repeat with other arguments is refused with PLUGBOARD_IDEMPOTENCY_KEY_REUSED', async () => {
    const host = await started();
    await host.execute('send', { to: 'ada' }, { user: alice, idempotencyKey: 'order-2' });
    await expect(
      host.execute('send', { to: 'grace' }, { user: alice, idempotencyKey: 'order-2' }),
    ).rejects.toMatchObject({
      code: 'PLUGBOARD_IDEMPOTENCY_KEY_REUSED',
      message: expect.stringContaining('send a new key for a new request'),
      details: { key: 'order-2', pluginId: 'send' },
    });
    expect(created).toBe(1);
  });

  it('keys are per user: the same key of another user is another request', async () => {
    const host = await started();
    const a = await host.execute('send', { to: 'ada' }, { user: alice, idempotencyKey: 'k' });
    const b = await host.execute('send', { to: 'ada' }, { user: bob, idempotencyKey: 'k' });
    expect(b.replayed).toBeUndefined();
    expect(b.tasks[0]!.id).not.toBe(a.tasks[0]!.id);
    expect(b.tasks[0]!.user.id).toBe('bob');
  });

  it('after the window the key starts a new request', async () => {
    const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
    const host = await started({ clock, idempotencyWindowMs: 60_000 });
    const first = await host.execute('send', { to: 'ada' }, { idempotencyKey: 'k' });
    await clock.advance(59_999);
    expect((await host.execute('send', { to: 'ada' }, { idempotencyKey: 'k' })).replayed).toBe(true);
    await clock.advance(1);
    const later = await host.execute('send', { to: 'grace' }, { idempotencyKey: 'k' });
    expect(later.replayed).toBeUndefined();
    expect(later.tasks[0]!.id).not.toBe(first.tasks[0]!.id);
    expect(created).toBe(2);
  });

  it('an execute that fails frees its key, so the retry runs', async () => {
    const host = await started();
    failCreate = true;
    await expect(host.execute('send', { to: 'ada' }, { idempotencyKey: 'k' })).rejects.toMatchObject({
      code: 'PLUGBOARD_CREATE_TASKS_FAILED',
    });
    failCreate = false;
    const retry = await host.execute('send', { to: 'ada' }, { idempotencyKey: 'k' });
    expect(retry.replayed).toBeUndefined();
    expect(retry.tasks).toHaveLength(1);
  });

  it('a repeat while the first is still creating its tasks is refused with PLUGBOARD_IDEMPOTENCY_KEY_IN_USE', async () => {
    const host = await started();
    let release!: () => void;
    holdCreate = new Promise((resolve) => {
      release = resolve;
    });
    const first = host.execute('send', { to: 'ada' }, { idempotencyKey: 'k' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await expect(host.execute('send', { to: 'ada' }, { idempotencyKey: 'k' })).rejects.toMatchObject({
      code: 'PLUGBOARD_IDEMPOTENCY_KEY_IN_USE',
    });
    release();
    const { tasks } = await first;
    expect(
      (await host.execute('send', { to: 'ada' }, { idempotencyKey: 'k' })).tasks.map((t) => t.id),
    ).toEqual(tasks.map((t) => t.id));
  });

  it('a repeat is still authorised: a user who lost the permission gets no tasks back', async () => {
    let allowed = true;
    const host = await started({
      authorize: () => {
        if (!allowed) throw new Error('no');
        return true;
      },
    });
    await host.execute('send', { to: 'ada' }, { user: alice, idempotencyKey: 'k' });
    allowed = false;
    await expect(
      host.execute('send', { to: 'ada' }, { user: alice, idempotencyKey: 'k' }),
    ).rejects.toBeDefined();
  });

  it('two hosts sharing a store return the tasks of the first execute on either', async () => {
    const store = memoryStore();
    const api1 = await started({ store });
    const api2 = createHost({ env: false, argv: [], plugins: { classes: [Send] }, store });
    hosts.push(api2);
    await api2.start();
    const first = await api1.execute('send', { to: 'ada' }, { idempotencyKey: 'shared' });
    const second = await api2.execute('send', { to: 'ada' }, { idempotencyKey: 'shared' });
    expect(second).toMatchObject({ replayed: true });
    expect(second.tasks.map((t) => t.id)).toEqual(first.tasks.map((t) => t.id));
    expect(created).toBe(1);
  });

  it('works the same for a plugin that runs isolated in a worker thread', async () => {
    const pluginsDir = fileURLToPath(new URL('./fixtures/isolated/plugins', import.meta.url));
    const host = createHost({
      env: false,
      argv: [],
      plugins: { dirs: [pluginsDir] },
      properties: { quick: { token: 's3cret-token' } },
      isolation: { mode: 'thread', graceMs: 200, memoryLimitMb: 64 },
    });
    hosts.push(host);
    await host.start();
    const first = await host.execute('quick', { text: 'hi' }, { idempotencyKey: 'iso' });
    const done = await host.tasks.wait(first.tasks[0]!.id);
    expect(done.result).toMatchObject({ text: 'hi', isMainThread: false });
    const again = await host.execute('quick', { text: 'hi' }, { idempotencyKey: 'iso' });
    expect(again).toMatchObject({ replayed: true, tasks: [{ id: first.tasks[0]!.id, state: 'succeeded' }] });
    await expect(host.execute('quick', { text: 'other' }, { idempotencyKey: 'iso' })).rejects.toMatchObject({
      code: 'PLUGBOARD_IDEMPOTENCY_KEY_REUSED',
    });
    expect((await host.tasks.list({ plugin: 'quick' })).items).toHaveLength(1);
  });

  describe('refuses with PLUGBOARD_INVALID_IDEMPOTENCY_KEY or PLUGBOARD_INVALID_OPTION', () => {
    for (const key of ['', ' padded ', 'x'.repeat(256), 'tab\there', 42]) {
      it(`the key ${JSON.stringify(key).slice(0, 20)}`, async () => {
        const host = await started();
        await expect(
          host.execute('send', { to: 'ada' }, { idempotencyKey: key as string }),
        ).rejects.toMatchObject({
          code: 'PLUGBOARD_INVALID_IDEMPOTENCY_KEY',
          message: expect.stringContaining('idempotencyKey'),
        });
      });
    }

    it('a window that is not a positive number', () => {
      expect(() => createHost({ idempotencyWindowMs: 0 })).toThrow(/idempotencyWindowMs/);
    });

    it('a key on a store that keeps none', async () => {
      const base = memoryStore();
      const store: TaskStore = new Proxy(base, {
        get: (target, name) => {
          if (name === 'claimIdempotencyKey' || name === 'settleIdempotencyKey') return undefined;
          const value = Reflect.get(target, name, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      const host = await started({ store });
      await expect(host.execute('send', { to: 'ada' }, { idempotencyKey: 'k' })).rejects.toMatchObject({
        code: 'PLUGBOARD_INVALID_OPTION',
        message: expect.stringContaining('keeps no idempotency keys'),
      });
      expect(created).toBe(0);
    });
  });
});
