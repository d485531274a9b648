import type { PlugboardUser } from '@plugboard/core';
import type express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, postJson, problemOf, startServer, type TestServer } from './helpers.js';
import { EventStreamClient, type ReceivedEvent } from './sse-client.js';

// Several users against one real server on loopback: Alice administers; Bob and Carol are ordinary users with
// different permissions; Dave holds none. Whatever route or stream they use, nobody reads, cancels or follows a
// task that is not theirs, runs a plugin they may not run, or administers without being an administrator.

const PEOPLE: Record<string, PlugboardUser> = {
  alice: { id: 'alice', name: 'Alice', permissions: [] },
  bob: { id: 'bob', name: 'Bob', permissions: ['text'] },
  carol: { id: 'carol', name: 'Carol', permissions: ['text', 'secret'] },
  dave: { id: 'dave', name: 'Dave', permissions: [] },
};
const ORDINARY = ['bob', 'carol', 'dave'] as const;

function personFrom(req: express.Request): PlugboardUser | undefined {
  const name = req.get('x-user');
  return name !== undefined && Object.hasOwn(PEOPLE, name) ? PEOPLE[name] : undefined;
}

let server: TestServer;
beforeAll(async () => {
  server = await startServer({
    getUser: personFrom,
    isAdmin: (user) => user.id === 'alice',
    heartbeatMs: 1000,
    cancelWaitMs: 2000,
  });
});
afterAll(() => server.close());

async function run(user: string, plugin: string, args: Record<string, unknown>, context?: string) {
  const response = await server.request(user, `/plugins/${plugin}/execute`, postJson({ args, context }));
  expect(response.status, await response.clone().text()).toBe(202);
  return (await response.json()).tasks[0].id as string;
}

const open = (user: string, headers: Record<string, string> = {}) =>
  EventStreamClient.open(`${server.url}/events`, { 'x-user': user, ...headers });

/** The task id or owner an event is about, whatever its shape. */
function taskOf(event: ReceivedEvent): { id: string; owner: string } | undefined {
  if (!event.event.startsWith('task:')) return undefined;
  const data = JSON.parse(event.data);
  return { id: data.id, owner: data.user?.id ?? data.userId };
}

describe('running plugins', () => {
  it('a user sees exactly the plugins whose permissions they hold; the administrator sees all', async () => {
    const visible: Record<string, string[]> = {};
    for (const user of Object.keys(PEOPLE)) {
      const { items } = await (await server.request(user, '/plugins')).json();
      visible[user] = items.map((p: { id: string }) => p.id).sort();
    }
    const all = server.host.plugins
      .list()
      .map((p) => p.id)
      .sort();
    expect(visible.alice).toEqual(all);
    expect(visible.bob).not.toContain('secret');
    expect(visible.carol).toContain('secret');
    expect(visible.dave).not.toContain('greet');
    expect(visible.dave).not.toContain('secret');
    for (const user of ORDINARY) {
      for (const id of all) {
        const response = await server.request(user, `/plugins/${id}`);
        expect(response.status, `${user} reads ${id}`).toBe(visible[user]!.includes(id) ? 200 : 403);
      }
    }
  });

  it('HTTP runs a plugin exactly when host.plugins.mayExecute says the user may; otherwise a coded 403 or 409', async () => {
    const args: Record<string, Record<string, unknown>> = {
      greet: { name: 'Matrix' },
      slow: { steps: 1, stepMs: 1 },
      'count-words': {},
    };
    for (const [name, user] of Object.entries(PEOPLE)) {
      for (const plugin of server.host.plugins.list()) {
        if (plugin.id === 'faulty') continue; // It may run, but its createTasks throws (a 500 by design).
        const may = await server.host.plugins.mayExecute(user, plugin.id);
        const response = await server.request(
          name,
          `/plugins/${plugin.id}/execute`,
          postJson({
            args: args[plugin.id] ?? {},
            context: plugin.kind === 'context' ? 'b1' : undefined,
          }),
        );
        const label = `${name} runs ${plugin.id} (mayExecute ${may})`;
        if (may) {
          expect(response.status, label).toBe(202);
          for (const task of (await response.json()).tasks) await server.host.tasks.wait(task.id);
        } else {
          const problem = await problemOf(response);
          expect([403, 409], label).toContain(problem.status);
          expect(problem.code, label).toMatch(/^PLUGBOARD_(FORBIDDEN|PLUGIN_NOT_OPERATIONAL)$/);
        }
      }
    }
    // The administrator sees every plugin but the host's permission check still applies to running them.
    expect(await server.host.plugins.mayExecute(PEOPLE.alice!, 'secret')).toBe(false);
    expect(await server.host.plugins.mayExecute(PEOPLE.carol!, 'secret')).toBe(true);
    expect(await server.host.plugins.mayExecute(PEOPLE.bob!, 'secret')).toBe(false);
  });

  it('a disabled plugin may be run by nobody, and only the administrator switches it', async () => {
    for (const user of ORDINARY) {
      for (const action of ['disable', 'enable'] as const) {
        const problem = await problemOf(
          await server.request(user, `/plugins/greet/${action}`, { method: 'POST' }),
        );
        expect(problem).toMatchObject({ status: 403, code: 'PLUGBOARD_FORBIDDEN' });
      }
    }
    expect(server.host.plugins.get('greet')?.status).toBe('operational');
    expect((await server.request('alice', '/plugins/greet/disable', { method: 'POST' })).status).toBe(200);
    try {
      for (const user of ['bob', 'carol']) {
        expect(await server.host.plugins.mayExecute(PEOPLE[user]!, 'greet')).toBe(false);
        const problem = await problemOf(
          await server.request(user, '/plugins/greet/execute', postJson({ args: { name: 'x' } })),
        );
        expect(problem).toMatchObject({ status: 409, code: 'PLUGBOARD_PLUGIN_DISABLED' });
        // Nor can they switch it back on.
        expect((await server.request(user, '/plugins/greet/enable', { method: 'POST' })).status).toBe(403);
      }
      expect(server.host.plugins.get('greet')?.status).toBe('disabled');
    } finally {
      expect((await server.request('alice', '/plugins/greet/enable', { method: 'POST' })).status).toBe(200);
    }
  });

  it('only the administrator triggers a schedule; refused triggers start nothing', async () => {
    const before = (await server.host.tasks.list({ plugin: 'nightly' })).items.length;
    for (const user of ORDINARY) {
      const problem = await problemOf(
        await server.request(user, '/schedules/nightly/trigger', { method: 'POST' }),
      );
      expect(problem).toMatchObject({ status: 403, code: 'PLUGBOARD_FORBIDDEN' });
    }
    expect((await server.host.tasks.list({ plugin: 'nightly' })).items).toHaveLength(before);
    const triggered = await server.request('alice', '/schedules/nightly/trigger', { method: 'POST' });
    expect(triggered.status).toBe(202);
    const [task] = (await triggered.json()).tasks;
    await server.host.tasks.wait(task.id);
    // The run belongs to the system user: no ordinary user reads it.
    for (const user of ORDINARY) {
      expect((await server.request(user, `/tasks/${task.id}`)).status).toBe(404);
      const { items } = await (await server.request(user, '/tasks?plugin=nightly')).json();
      expect(items.map((t: { id: string }) => t.id)).not.toContain(task.id);
      expect(items.every((t: { user: { id: string } }) => t.user.id === user)).toBe(true);
    }
  });

  it('every route needs a signed-in user', async () => {
    const id = await run('bob', 'greet', { name: 'Anonymous' });
    const routes: [string, string][] = [
      ['GET', '/me'],
      ['GET', '/plugins'],
      ['GET', '/plugins/greet'],
      ['POST', '/plugins/greet/execute'],
      ['POST', '/plugins/greet/disable'],
      ['POST', '/plugins/greet/enable'],
      ['GET', '/tasks'],
      ['GET', `/tasks/${id}`],
      ['GET', `/tasks/${id}/logs`],
      ['POST', `/tasks/${id}/cancel`],
      ['GET', '/schedules'],
      ['POST', '/schedules/nightly/trigger'],
      ['GET', '/events'],
      ['GET', '/openapi.json'],
    ];
    for (const [method, path] of routes) {
      const response = await fetch(`${server.url}${path}`, { method, headers: { 'x-user': 'mallory' } });
      expect((await problemOf(response)).status, `${method} ${path}`).toBe(401);
    }
    expect(server.host.plugins.get('greet')?.status).toBe('operational');
  });
});

describe('another user’s tasks', () => {
  it('cannot be read, listed, paged into, have their log read or be cancelled: always the answer for a missing task', async () => {
    const bobs = await run('bob', 'slow', { steps: 400, stepMs: 50 });
    const done = await run('bob', 'greet', { name: 'Bob', times: 2 });
    await server.host.tasks.wait(done);
    for (const user of ['carol', 'dave']) {
      for (const id of [bobs, done]) {
        for (const [method, path] of [
          ['GET', `/tasks/${id}`],
          ['GET', `/tasks/${id}/logs`],
          ['GET', `/tasks/${id}/logs?after=0&limit=1000`],
          ['POST', `/tasks/${id}/cancel`],
        ] as const) {
          const problem = await problemOf(await server.request(user, path, { method }));
          expect(problem, `${user} ${method} ${path}`).toMatchObject({
            status: 404,
            code: 'PLUGBOARD_UNKNOWN_TASK',
            detail: `No task has id \`${id}\`.`,
          });
        }
      }
      expect((await problemOf(await server.request(user, '/tasks?user=bob'))).status).toBe(403);
      // Bob's own cursor pages through the other user's own tasks only.
      const bobPage = await (await server.request('bob', '/tasks?limit=1')).json();
      for (const query of ['', '?limit=500', `?cursor=${bobPage.nextCursor}`, '?plugin=slow&state=running']) {
        const { items } = await (await server.request(user, `/tasks${query}`)).json();
        expect(
          items.every((t: { user: { id: string } }) => t.user.id === user),
          `${user} /tasks${query}`,
        ).toBe(true);
      }
    }
    expect((await server.host.tasks.get(bobs))?.state).toMatch(/queued|running/);
    // Bob and the administrator do see them.
    expect((await server.request('bob', `/tasks/${done}/logs`)).status).toBe(200);
    expect((await server.request('alice', `/tasks/${done}`)).status).toBe(200);
    const cancelled = await server.request('alice', `/tasks/${bobs}/cancel`, { method: 'POST' });
    expect((await cancelled.json()).state).toBe('cancelled');
  });
});

describe('following tasks over the event stream', () => {
  it('each user receives the events of their own tasks only; the administrator receives all', async () => {
    const streams = Object.fromEntries(
      await Promise.all(Object.keys(PEOPLE).map(async (user) => [user, await open(user)] as const)),
    );
    await Promise.all(Object.values(streams).map((s) => s.next((e) => e.event === 'ready')));
    const owned: Record<string, string[]> = { bob: [], carol: [], dave: [] };
    owned.bob!.push(await run('bob', 'greet', { name: 'B1', times: 2 }));
    owned.carol!.push(await run('carol', 'greet', { name: 'C1', times: 2 }));
    owned.carol!.push(await run('carol', 'secret', {}));
    owned.dave!.push(await run('dave', 'slow', { steps: 2, stepMs: 10 }));
    owned.bob!.push(await run('bob', 'count-words', {}, 'b1'));
    const cancelMe = await run('carol', 'slow', { steps: 400, stepMs: 50 });
    owned.carol!.push(cancelMe);
    // Bob tries to cancel Carol's task: refused, and the attempt shows up nowhere.
    expect((await server.request('bob', `/tasks/${cancelMe}/cancel`, { method: 'POST' })).status).toBe(404);
    expect((await server.request('carol', `/tasks/${cancelMe}/cancel`, { method: 'POST' })).status).toBe(200);
    const triggered = await server.request('alice', '/schedules/nightly/trigger', { method: 'POST' });
    const system = (await triggered.json()).tasks[0].id as string;
    const everything = [...Object.values(owned).flat(), system];
    for (const id of everything) await server.host.tasks.wait(id);
    // Wait until the administrator, who sees everything, has every final event; the others got theirs before.
    const finishedBy = (stream: EventStreamClient) =>
      new Set(stream.data('task:finished').map((record) => record.id as string));
    await eventually(() => (everything.every((id) => finishedBy(streams.alice!).has(id)) ? true : undefined));
    for (const [user, ids] of Object.entries(owned)) {
      await eventually(() => (ids.every((id) => finishedBy(streams[user]!).has(id)) ? true : undefined));
    }
    for (const user of ORDINARY) {
      const stream = streams[user]!;
      const seen = stream.received.map(taskOf).filter((t) => t !== undefined);
      expect(seen.length).toBeGreaterThan(0);
      for (const task of seen) {
        expect(task.owner, `${user} received an event of ${task.id}`).toBe(user);
        expect(owned[user]).toContain(task.id);
      }
      expect(stream.received.some((e) => e.event === 'schedule:fired')).toBe(false);
      // Log and progress payloads are the owner's too.
      for (const name of ['task:log', 'task:progress']) {
        for (const data of stream.data(name)) expect(data.userId).toBe(user);
      }
    }
    const adminSaw = new Set(streams.alice!.received.map(taskOf).map((t) => t?.id));
    for (const id of everything) expect(adminSaw).toContain(id);
    expect(streams.alice!.received.some((e) => e.event === 'schedule:fired')).toBe(true);
    await Promise.all(Object.values(streams).map((s) => s.close()));
  });

  it('resuming with Last-Event-ID replays only the resuming user’s own events', async () => {
    const bob = await open('bob');
    const ready = await bob.next((e) => e.event === 'ready');
    await bob.close();
    const carols = [
      await run('carol', 'greet', { name: 'While Bob was away', times: 2 }),
      await run('carol', 'secret', {}),
    ];
    const bobs = await run('bob', 'greet', { name: 'Bob away' });
    for (const id of [...carols, bobs]) await server.host.tasks.wait(id);
    const resumed = await open('bob', { 'Last-Event-ID': ready.id! });
    const back = await resumed.next((e) => e.event === 'ready');
    expect(JSON.parse(back.data)).toEqual({ resumed: true });
    const replayed = resumed.received.map(taskOf).filter((t) => t !== undefined);
    expect(replayed.map((t) => t.id)).toContain(bobs);
    for (const task of replayed) expect(task.owner).toBe('bob');
    await resumed.close();
    // An id made up to point before Carol's events changes nothing either.
    const [epoch] = ready.id!.split('-');
    const forged = await open('dave', { 'Last-Event-ID': `${epoch}-0` });
    await forged.next((e) => e.event === 'ready' || e.event === 'resync');
    for (const task of forged.received.map(taskOf).filter((t) => t !== undefined)) {
      expect(task.owner).toBe('dave');
    }
    await forged.close();
  });

  it('plugin status events reach only users who may see the plugin', async () => {
    const streams = Object.fromEntries(
      await Promise.all(Object.keys(PEOPLE).map(async (user) => [user, await open(user)] as const)),
    );
    await Promise.all(Object.values(streams).map((s) => s.next((e) => e.event === 'ready')));
    await server.request('alice', '/plugins/secret/disable', { method: 'POST' });
    await server.request('alice', '/plugins/secret/enable', { method: 'POST' });
    await server.request('alice', '/plugins/slow/disable', { method: 'POST' });
    await server.request('alice', '/plugins/slow/enable', { method: 'POST' });
    const enabledAgain = (stream: EventStreamClient, id: string) =>
      stream.next(
        (e) =>
          e.event === 'plugin:status' &&
          JSON.parse(e.data).id === id &&
          JSON.parse(e.data).status === 'operational',
      );
    await Promise.all([enabledAgain(streams.alice!, 'secret'), enabledAgain(streams.carol!, 'secret')]);
    await Promise.all(Object.values(streams).map((s) => enabledAgain(s, 'slow')));
    const secretSeenBy = Object.entries(streams)
      .filter(([, s]) => s.data('plugin:status').some((d) => d.id === 'secret'))
      .map(([user]) => user)
      .sort();
    expect(secretSeenBy).toEqual(['alice', 'carol']);
    await Promise.all(Object.values(streams).map((s) => s.close()));
  });
});
