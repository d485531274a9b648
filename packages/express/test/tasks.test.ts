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

describe('reading tasks', () => {
  it('a user lists only their own tasks, newest first; an administrator lists everyone’s', async () => {
    const a1 = await run('alice', 'greet', { name: 'one' });
    const a2 = await run('alice', 'greet', { name: 'two' });
    const b1 = await run('bob', 'greet', { name: 'three' });
    const alice = await (await server.request('alice', '/tasks')).json();
    const ids = alice.items.map((t: { id: string }) => t.id);
    expect(ids).toContain(a1);
    expect(ids).not.toContain(b1);
    expect(ids.indexOf(a2)).toBeLessThan(ids.indexOf(a1));
    expect(alice.items.every((t: { user: { id: string } }) => t.user.id === 'alice')).toBe(true);
    const all = await (await server.request('root', '/tasks')).json();
    expect(all.items.map((t: { id: string }) => t.id)).toEqual(expect.arrayContaining([a1, a2, b1]));
    const onlyBob = await (await server.request('root', '/tasks?user=bob')).json();
    expect(onlyBob.items.map((t: { id: string }) => t.id)).toEqual([b1]);
  });

  it('asking for another user’s tasks is 403 naming the `user` parameter', async () => {
    const problem = await problemOf(await server.request('alice', '/tasks?user=bob'));
    expect(problem).toMatchObject({ status: 403, code: 'PLUGBOARD_FORBIDDEN' });
    expect(problem.errors).toEqual([{ path: '/user', message: 'must be your own user id' }]);
  });

  it('tasks are filtered by plugin and state and paged by cursor', async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await run('bob', 'greet', { name: `p${i}` }));
    for (const id of ids) await server.host.tasks.wait(id);
    const first = await (await server.request('bob', '/tasks?plugin=greet&state=succeeded&limit=2')).json();
    expect(first.items).toHaveLength(2);
    expect(first.items.every((t: { state: string }) => t.state === 'succeeded')).toBe(true);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await (
      await server.request('bob', `/tasks?plugin=greet&state=succeeded&limit=2&cursor=${first.nextCursor}`)
    ).json();
    const seen = [...first.items, ...second.items].map((t: { id: string }) => t.id);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(ids));
    const none = await (await server.request('bob', '/tasks?state=failed,cancelled&plugin=greet')).json();
    expect(none.items).toEqual([]);
  });

  it('bad limit, cursor and state are one 400 naming each parameter', async () => {
    const problem = await problemOf(
      await server.request('alice', '/tasks?limit=0&cursor=%21%21&state=done&x=1'),
    );
    expect(problem).toMatchObject({ status: 400, code: 'PLUGBOARD_INVALID_ARGUMENTS' });
    expect(problem.errors!.map((e) => e.path).sort()).toEqual(['/cursor', '/limit', '/state', '/x']);
    const twice = await problemOf(await server.request('alice', '/tasks?limit=1&limit=2'));
    expect(twice.errors).toEqual([{ path: '/limit', message: 'must be given once' }]);
  });

  it('a task is read by id with its result; another user’s task is answered like a missing one', async () => {
    const id = await run('alice', 'greet', { name: 'Grace', times: 2 });
    await server.host.tasks.wait(id);
    const task = await (await server.request('alice', `/tasks/${id}`)).json();
    expect(task).toMatchObject({
      id,
      state: 'succeeded',
      progress: 100,
      result: 'Hello, Grace! Hello, Grace!',
    });
    expect(task.statusText).toBe('Greeted 2 time(s)');
    const bob = await problemOf(await server.request('bob', `/tasks/${id}`));
    expect(bob).toMatchObject({ status: 404, code: 'PLUGBOARD_UNKNOWN_TASK' });
    const missing = await problemOf(await server.request('alice', '/tasks/0000nothing'));
    expect(missing).toMatchObject({ status: 404, code: 'PLUGBOARD_UNKNOWN_TASK' });
    expect((await server.request('root', `/tasks/${id}`)).status).toBe(200);
  });

  it('a task’s log is read after a sequence number, and hidden from other users', async () => {
    const id = await run('alice', 'greet', { name: 'Lin', times: 3 });
    await server.host.tasks.wait(id);
    const all = await (await server.request('alice', `/tasks/${id}/logs`)).json();
    expect(all.items.map((l: { message: string }) => l.message)).toEqual([
      'greeting 1 of 3',
      'greeting 2 of 3',
      'greeting 3 of 3',
    ]);
    expect(all.nextAfter).toBe(3);
    const later = await (await server.request('alice', `/tasks/${id}/logs?after=2`)).json();
    expect(later.items.map((l: { seq: number }) => l.seq)).toEqual([3]);
    const none = await (await server.request('alice', `/tasks/${id}/logs?after=3`)).json();
    expect(none).toEqual({ items: [], nextAfter: 3 });
    expect((await problemOf(await server.request('bob', `/tasks/${id}/logs`))).status).toBe(404);
    const bad = await problemOf(await server.request('alice', `/tasks/${id}/logs?after=-1`));
    expect(bad.errors).toEqual([
      { path: '/after', message: 'must be an integer from 0 to 9007199254740991' },
    ]);
  });
});

describe('cancelling tasks', () => {
  it('the owner cancels a running task and gets its cancelled record', async () => {
    const id = await run('alice', 'slow', { steps: 200, stepMs: 50 });
    await eventually(async () => ((await server.host.tasks.get(id))?.state === 'running' ? true : undefined));
    const response = await server.request('alice', `/tasks/${id}/cancel`, { method: 'POST' });
    expect(response.status).toBe(200);
    const record = await response.json();
    expect(record.state).toBe('cancelled');
    expect(record.error).toEqual({
      code: 'PLUGBOARD_TASK_CANCELLED',
      message: expect.any(String),
      cancelledBy: { id: 'alice', name: 'Alice' },
    });
  });

  it('another user cannot cancel the task: 404, and the task keeps running', async () => {
    const id = await run('alice', 'slow', { steps: 200, stepMs: 50 });
    const problem = await problemOf(await server.request('bob', `/tasks/${id}/cancel`, { method: 'POST' }));
    expect(problem).toMatchObject({ status: 404, code: 'PLUGBOARD_UNKNOWN_TASK' });
    expect((await server.host.tasks.get(id))?.state).toMatch(/queued|running/);
    const byAdmin = await server.request('root', `/tasks/${id}/cancel`, { method: 'POST' });
    expect((await byAdmin.json()).state).toBe('cancelled');
  });

  it('cancelling a finished task is 409', async () => {
    const id = await run('alice', 'greet', { name: 'Done' });
    await server.host.tasks.wait(id);
    const problem = await problemOf(await server.request('alice', `/tasks/${id}/cancel`, { method: 'POST' }));
    expect(problem).toMatchObject({ status: 409, code: 'PLUGBOARD_TASK_FINISHED' });
  });
});

describe('schedules', () => {
  it('users list the schedules of plugins they may see; an administrator triggers one', async () => {
    const { items } = await (await server.request('root', '/schedules')).json();
    expect(items).toEqual([
      expect.objectContaining({ id: 'nightly', pluginId: 'nightly', delaySeconds: 3600 }),
    ]);
    const alice = await (await server.request('alice', '/schedules')).json();
    expect(alice.items.map((s: { id: string }) => s.id)).toEqual(['nightly']);
    const triggered = await server.request('root', '/schedules/nightly/trigger', { method: 'POST' });
    expect(triggered.status).toBe(202);
    const { tasks } = await triggered.json();
    expect(tasks[0]).toMatchObject({
      pluginId: 'nightly',
      scheduleId: 'nightly',
      // Run now is recorded as the administrator who pressed it.
      user: { id: 'root' },
    });
  });

  it('only administrators trigger, and unknown schedules are 404', async () => {
    const forbidden = await problemOf(
      await server.request('alice', '/schedules/nightly/trigger', { method: 'POST' }),
    );
    expect(forbidden).toMatchObject({ status: 403, code: 'PLUGBOARD_FORBIDDEN' });
    const missing = await problemOf(
      await server.request('root', '/schedules/nope/trigger', { method: 'POST' }),
    );
    expect(missing).toMatchObject({ status: 404, code: 'PLUGBOARD_UNKNOWN_SCHEDULE' });
    expect((await problemOf(await server.request(null, '/schedules'))).status).toBe(401);
  });
});
