import {
  ActionPlugin,
  createHost,
  type Host,
  memoryStore,
  SECRET_PLACEHOLDER,
  type Static,
  Task,
  type TaskContext,
  Type,
} from '@plugboard/core';
import { afterEach, describe, expect, it } from 'vitest';

const API_KEY = 'sk-live-4f9a8b7c6d5e';
const PASSWORD = 'correct horse battery staple';

const Props = Type.Object({
  apiKey: Type.String({ writeOnly: true, description: 'The service key' }),
  account: Type.Object({
    user: Type.String(),
    password: Type.String({ writeOnly: true, default: 'not-a-real-default' }),
  }),
  region: Type.String({ default: 'eu-west' }),
});
type Props = Static<typeof Props>;

/** Does everything a careless plugin could do with its secrets. */
class LeakyTask extends Task<{ mode: string; echo?: string }> {
  async run(ctx: TaskContext) {
    const { apiKey, account, region } = ctx.properties as Props;
    ctx.log.info(`calling ${region} with key ${apiKey} as ${account.user}:${account.password}`);
    ctx.status(`authenticated with ${apiKey}`);
    ctx.progress(50, `half done (${account.password})`);
    if (this.input.mode === 'throw') throw new Error(`401 for key ${apiKey}`);
    if (this.input.mode === 'fail') ctx.fail(`the service refused ${apiKey}`);
    return {
      usedRealKey: apiKey === API_KEY,
      echo: this.input.echo,
      [apiKey]: `header ${apiKey}`,
      region,
    };
  }
}

const Args = Type.Object({ mode: Type.String(), echo: Type.Optional(Type.String()) });

class Leaky extends ActionPlugin({
  id: 'leaky',
  name: 'Leaky',
  args: Args,
  properties: Props,
  tasks: [LeakyTask],
}) {
  createTasks(args: Static<typeof Args>) {
    if (args.mode === 'refuse') throw new Error(`cannot reach the service with ${this.properties.apiKey}`);
    // Putting a secret into task input is a mistake the host repairs: input is stored and shown.
    return new LeakyTask({ mode: args.mode, echo: args.echo ?? this.properties.apiKey });
  }
}

class Gatekeeper extends ActionPlugin({
  id: 'gatekeeper',
  name: 'Gatekeeper',
  properties: Type.Object({ token: Type.String({ writeOnly: true }) }),
  tasks: [LeakyTask],
}) {
  createTasks() {}
  override isReady() {
    return { ready: false, reason: `The token ${this.properties.token} was revoked.` };
  }
}

const hosts: Host[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop()));
});

async function leakyHost() {
  const store = memoryStore();
  const host = createHost({
    env: false,
    argv: [],
    store,
    progressIntervalMs: 0,
    plugins: { classes: [Leaky, Gatekeeper] },
    properties: {
      leaky: { apiKey: API_KEY, account: { user: 'svc', password: PASSWORD } },
      gatekeeper: { token: `${API_KEY}-admin` },
    },
  });
  hosts.push(host);
  const seen: unknown[] = [];
  for (const name of [
    'task:queued',
    'task:started',
    'task:progress',
    'task:log',
    'task:finished',
    'plugin:status',
  ] as const) {
    host.events.on(name, (payload: unknown) => seen.push(payload));
  }
  await host.start();
  return { host, store, seen };
}

/** Everything the store holds: records, logs and the plugin catalogue. */
async function storeContents(host: Host, store: ReturnType<typeof memoryStore>): Promise<string> {
  const { items } = await store.listTasks({ limit: 500 });
  const logs = await Promise.all(items.map((t) => host.tasks.logs(t.id)));
  return JSON.stringify({ items, logs, catalogue: await store.listPluginEntries() });
}

function expectNoSecret(text: string) {
  expect(text).not.toContain(API_KEY);
  expect(text).not.toContain(PASSWORD);
}

describe('secret App Properties (writeOnly: true)', () => {
  it('reach the task in clear and appear as [secret] in its log, status, progress, input and result', async () => {
    const { host, store, seen } = await leakyHost();
    const { tasks } = await host.execute('leaky', { mode: 'ok' });
    const record = await host.tasks.wait(tasks[0]!.id);
    expect(SECRET_PLACEHOLDER).toBe('[secret]');
    expect(record).toMatchObject({
      state: 'succeeded',
      input: { mode: 'ok', echo: '[secret]' },
      statusText: 'authenticated with [secret]',
      progressMessage: 'half done ([secret])',
      result: { usedRealKey: true, echo: '[secret]', '[secret]': 'header [secret]', region: 'eu-west' },
    });
    const logs = await host.tasks.logs(record.id);
    expect(logs.map((l) => l.message)).toEqual(['calling eu-west with key [secret] as svc:[secret]']);
    expectNoSecret(JSON.stringify(seen));
    expectNoSecret(await storeContents(host, store));
  });

  it('are replaced in the messages of tasks that throw or fail, and of createTasks that throws', async () => {
    const { host, store, seen } = await leakyHost();
    const thrown = await host.tasks.wait(
      (await host.execute('leaky', { mode: 'throw', echo: 'x' })).tasks[0]!.id,
    );
    expect(thrown.error).toMatchObject({ code: 'PLUGBOARD_TASK_FAILED', message: '401 for key [secret]' });
    expectNoSecret(thrown.error!.stack!);
    const failed = await host.tasks.wait(
      (await host.execute('leaky', { mode: 'fail', echo: 'x' })).tasks[0]!.id,
    );
    expect(failed.error?.message).toBe('the service refused [secret]');
    const refusal = await host.execute('leaky', { mode: 'refuse' }).catch((error: Error) => error);
    expect(refusal).toMatchObject({
      code: 'PLUGBOARD_CREATE_TASKS_FAILED',
      message: 'Plugin `leaky` failed to create its tasks: cannot reach the service with [secret].',
    });
    expectNoSecret((refusal as Error).stack!);
    expectNoSecret(JSON.stringify(seen));
    expectNoSecret(await storeContents(host, store));
  });

  it('are replaced in readiness reasons, in plugin listings, events and the catalogue', async () => {
    const { host, store, seen } = await leakyHost();
    expect(host.plugins.get('gatekeeper')).toMatchObject({
      status: 'not-ready',
      reason: 'The token [secret] was revoked.',
    });
    // A secret that contains another is replaced whole, not as the shorter one plus a readable tail.
    expect(host.plugins.get('gatekeeper')?.reason).not.toContain('-admin');
    expectNoSecret(JSON.stringify(host.plugins.list()));
    expectNoSecret(JSON.stringify(host.report));
    expectNoSecret(JSON.stringify(seen));
    expectNoSecret(await storeContents(host, store));
  });

  it('keep their schema but not its default or examples in the plugin listing', async () => {
    const { host } = await leakyHost();
    const schema = host.plugins.get('leaky')?.schemas.properties as {
      properties: Record<string, { properties?: Record<string, Record<string, unknown>> }>;
    };
    expect(schema.properties.apiKey).toMatchObject({ type: 'string', writeOnly: true });
    expect(schema.properties.account?.properties?.password).toEqual({ type: 'string', writeOnly: true });
    expect(schema.properties.region).toMatchObject({ default: 'eu-west' });
  });

  it('leave values that are not secret alone, including a user argument that merely resembles one', async () => {
    const { host } = await leakyHost();
    const { tasks } = await host.execute('leaky', { mode: 'ok', echo: 'sk-live-but-not-the-key' });
    expect((await host.tasks.wait(tasks[0]!.id)).result).toMatchObject({
      echo: 'sk-live-but-not-the-key',
      region: 'eu-west',
    });
  });
});
