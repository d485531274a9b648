import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, postJson, problemOf, startServer, type TestServer } from './helpers.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ cancelWaitMs: 2000 });
});
afterAll(() => server.close());

async function run(user: string, plugin: string, args: Record<string, unknown> = {}): Promise<string> {
  const response = await server.request(user, `/plugins/${plugin}/execute`, postJson({ args }));
  expect(response.status).toBe(202);
  return (await response.json()).tasks[0].id;
}

describe('task counts', () => {
  it('counts tasks per state; a user counts only their own, an administrator anyone’s', async () => {
    const a = await run('alice', 'greet', { name: 'one' });
    await server.host.tasks.wait(a);
    const b = await run('bob', 'greet', { name: 'two' });
    await server.host.tasks.wait(b);
    const alice = await (await server.request('alice', '/tasks/counts')).json();
    expect(alice.counts).toMatchObject({ succeeded: 1, failed: 0, queued: 0, running: 0 });
    expect(alice.total).toBe(1);
    const root = await (await server.request('root', '/tasks/counts?plugin=greet')).json();
    expect(root.counts.succeeded).toBe(2);
    const onlyBob = await (await server.request('root', '/tasks/counts?user=bob')).json();
    expect(onlyBob.total).toBe(1);
  });

  it('asking for another user’s counts is 403, and an unknown parameter 400', async () => {
    expect((await problemOf(await server.request('alice', '/tasks/counts?user=bob'))).status).toBe(403);
    const problem = await problemOf(await server.request('alice', '/tasks/counts?state=queued'));
    expect(problem).toMatchObject({ status: 400, code: 'PLUGBOARD_INVALID_ARGUMENTS' });
    expect(problem.errors?.[0]?.path).toBe('/state');
  });
});

describe('cancelling', () => {
  it('a cancelled task records who cancelled it', async () => {
    const id = await run('alice', 'slow', { steps: 1000, stepMs: 20 });
    await eventually(async () => ((await server.host.tasks.get(id))?.state === 'running' ? true : undefined));
    const response = await server.request('alice', `/tasks/${id}/cancel`, { method: 'POST' });
    const body = await response.json();
    expect(body.state).toBe('cancelled');
    expect(body.error.cancelledBy).toEqual({ id: 'alice', name: 'Alice' });
    const read = await (await server.request('alice', `/tasks/${id}`)).json();
    expect(read.error.cancelledBy).toEqual({ id: 'alice', name: 'Alice' });
  });

  it('cancels every active task of a filter at once, and only the caller’s own for a user', async () => {
    const mine = [await run('alice', 'slow', { stepMs: 50 }), await run('alice', 'slow', { stepMs: 50 })];
    const bobs = await run('bob', 'slow', { stepMs: 50 });
    const response = await server.request('alice', '/tasks/cancel', postJson({ plugin: 'slow' }));
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body.cancelled.map((t: { id: string }) => t.id).sort()).toEqual([...mine].sort());
    expect(
      body.cancelled.every(
        (t: { error: { cancelledBy: { id: string } } }) => t.error.cancelledBy.id === 'alice',
      ),
    ).toBe(true);
    expect((await server.host.tasks.get(bobs))?.state).not.toBe('cancelled');
    const forbidden = await server.request('alice', '/tasks/cancel', postJson({ user: 'bob' }));
    expect((await problemOf(forbidden)).status).toBe(403);
    const all = await (await server.request('root', '/tasks/cancel', postJson({ user: 'bob' }))).json();
    expect(all.cancelled.map((t: { id: string }) => t.id)).toEqual([bobs]);
  });

  it('refuses a bulk cancel body with unknown fields, naming them', async () => {
    const problem = await problemOf(
      await server.request('root', '/tasks/cancel', postJson({ state: 'running' })),
    );
    expect(problem).toMatchObject({ status: 400, code: 'PLUGBOARD_INVALID_ARGUMENTS' });
    expect(problem.errors?.[0]?.path).toBe('/state');
  });
});

describe('running a task again', () => {
  it('queues a new task with the same input, run by the person who asked', async () => {
    const first = await run('alice', 'greet', { name: 'Ada', times: 2 });
    await server.host.tasks.wait(first);
    const response = await server.request('alice', `/tasks/${first}/rerun`, { method: 'POST' });
    expect(response.status).toBe(202);
    const { task } = await response.json();
    expect(task.id).not.toBe(first);
    expect(task.input).toEqual({ name: 'Ada', times: 2, tone: 'plain', loud: false });
    const done = await server.host.tasks.wait(task.id);
    expect(done.state).toBe('succeeded');
    expect(done.result).toBe('Hello, Ada! Hello, Ada!');
  });

  it('another user’s task cannot be run again (404, as if missing); a disabled plugin’s is 409', async () => {
    const first = await run('alice', 'greet', { name: 'Ada' });
    await server.host.tasks.wait(first);
    expect(
      (await problemOf(await server.request('bob', `/tasks/${first}/rerun`, { method: 'POST' }))).status,
    ).toBe(404);
    await server.host.plugins.disable('greet');
    try {
      const problem = await problemOf(
        await server.request('alice', `/tasks/${first}/rerun`, { method: 'POST' }),
      );
      expect(problem.status).toBe(409);
    } finally {
      await server.host.plugins.enable('greet');
    }
  });
});

describe('schedules', () => {
  it('lists schedules with plugin name and cadence in words; running one now records the administrator', async () => {
    const { items } = await (await server.request('root', '/schedules')).json();
    const nightly = items.find((s: { id: string }) => s.id === 'nightly');
    expect(nightly).toMatchObject({ pluginName: 'Nightly clean-up', cadence: 'once' });
    const response = await server.request('root', '/schedules/nightly/trigger', { method: 'POST' });
    expect(response.status).toBe(202);
    const { tasks } = await response.json();
    expect(tasks[0].user).toEqual({ id: 'root', name: 'Root' });
  });
});

describe('plugin reasons', () => {
  it('a viewer reads why a plugin is unavailable in words; an administrator reads the set-up details', async () => {
    const viewer = await (await server.request('alice', '/plugins/offline')).json();
    expect(viewer.reason).toBe('This plugin is not ready yet; an administrator has been told what it needs.');
    const admin = await (await server.request('root', '/plugins/offline')).json();
    expect(admin.reason).toMatch(/TRANSLATE_URL/);
  });
});
