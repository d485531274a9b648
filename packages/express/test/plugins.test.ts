import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postJson, problemOf, startServer, type TestServer } from './helpers.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ bodyLimit: 2048 });
});
afterAll(() => server.close());

describe('listing plugins', () => {
  it('a user sees the plugins whose permissions they hold, with status, reason and argument schema', async () => {
    const response = await server.request('alice', '/plugins');
    expect(response.status).toBe(200);
    const { items } = await response.json();
    const ids = items.map((p: { id: string }) => p.id);
    expect(ids).toContain('greet');
    expect(ids).toContain('offline');
    expect(ids).not.toContain('secret');
    const greet = items.find((p: { id: string }) => p.id === 'greet');
    expect(greet).toMatchObject({ name: 'Greet', category: 'Text', status: 'operational', reason: null });
    expect(greet.schemas.args.properties.times).toMatchObject({ type: 'integer', minimum: 1, default: 1 });
    expect(greet.schemas.args.required).toContain('name');
    const offline = items.find((p: { id: string }) => p.id === 'offline');
    expect(offline.status).toBe('not-ready');
    // The set-up details (an environment variable to set) are for administrators; a viewer reads why in words.
    expect(offline.reason).toBe(
      'This plugin is not ready yet; an administrator has been told what it needs.',
    );
  });

  it('plugins come sorted by category, then sort order', async () => {
    const { items } = await (await server.request('root', '/plugins')).json();
    const categories = items.map((p: { category: string }) => p.category);
    expect(categories).toEqual([...categories].sort());
    const maintenance = items.filter((p: { category: string }) => p.category === 'Maintenance');
    expect(maintenance.map((p: { id: string }) => p.id)).toEqual(['secret', 'slow', 'nightly', 'faulty']);
  });

  it('an administrator sees every plugin', async () => {
    const { items } = await (await server.request('root', '/plugins')).json();
    expect(items.map((p: { id: string }) => p.id)).toContain('secret');
  });

  it('server-side details such as source paths and timings are not sent', async () => {
    const plugin = await (await server.request('root', '/plugins/greet')).json();
    expect(plugin).not.toHaveProperty('source');
    expect(plugin).not.toHaveProperty('timings');
    expect(Object.keys(plugin.schemas)).toEqual(['args']);
  });

  it('a request without a user is answered 401 with the catalogue code', async () => {
    const response = await server.request(null, '/plugins');
    expect(response.status).toBe(401);
    const problem = await problemOf(response);
    expect(problem).toMatchObject({
      status: 401,
      code: 'PLUGBOARD_UNAUTHENTICATED',
      title: 'No user is signed in',
    });
  });

  it('a query string on a route that takes none is refused naming the parameter', async () => {
    const problem = await problemOf(await server.request('alice', '/plugins?verbose=1'));
    expect(problem.status).toBe(400);
    expect(problem.errors).toEqual([{ path: '/verbose', message: expect.stringContaining('takes none') }]);
  });

  it('one plugin is read by id; unknown ids are 404 and plugins the user may not use are 403', async () => {
    const greet = await server.request('alice', '/plugins/greet');
    expect(greet.status).toBe(200);
    expect((await greet.json()).id).toBe('greet');
    const missing = await problemOf(await server.request('alice', '/plugins/nope'));
    expect(missing).toMatchObject({ status: 404, code: 'PLUGBOARD_UNKNOWN_PLUGIN' });
    const secret = await problemOf(await server.request('alice', '/plugins/secret'));
    expect(secret).toMatchObject({ status: 403, code: 'PLUGBOARD_FORBIDDEN' });
  });

  it('routes the router does not know fall through to the host application', async () => {
    const response = await fetch(server.url.replace('/plugboard', '/health'));
    expect(await response.text()).toBe('ok');
  });
});

describe('executing a plugin', () => {
  it('valid arguments answer 202 with the created tasks, defaults applied', async () => {
    const response = await server.request(
      'alice',
      '/plugins/greet/execute',
      postJson({ args: { name: 'Ada' } }),
    );
    expect(response.status).toBe(202);
    const { tasks } = await response.json();
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({
      pluginId: 'greet',
      state: 'queued',
      user: { id: 'alice', name: 'Alice' },
      input: { name: 'Ada', times: 1, tone: 'plain' },
    });
    const done = await server.host.tasks.wait(tasks[0].id);
    expect(done.result).toBe('Hello, Ada!');
  });

  it('bad arguments answer 400 listing every failing field under /args', async () => {
    const response = await server.request(
      'alice',
      '/plugins/greet/execute',
      postJson({ args: { times: 9, tone: 'rude' } }),
    );
    const problem = await problemOf(response);
    expect(problem.status).toBe(400);
    expect(problem.code).toBe('PLUGBOARD_INVALID_ARGUMENTS');
    const paths = problem.errors!.map((e) => e.path).sort();
    expect(paths).toEqual(['/args/name', '/args/times', '/args/tone']);
    expect(problem.errors!.find((e) => e.path === '/args/name')?.message).toBe('is required');
  });

  it('an execute body with unknown keys or a non-object args is refused field by field', async () => {
    const problem = await problemOf(
      await server.request('alice', '/plugins/greet/execute', postJson({ args: [1], user: 'root' })),
    );
    expect(problem.status).toBe(400);
    expect(problem.errors!.map((e) => e.path).sort()).toEqual(['/args', '/user']);
  });

  it('malformed JSON is a 400 naming the body', async () => {
    const problem = await problemOf(
      await server.request('alice', '/plugins/greet/execute', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"args": {',
      }),
    );
    expect(problem).toMatchObject({ status: 400, code: 'PLUGBOARD_INVALID_ARGUMENTS' });
    expect(problem.errors).toEqual([{ path: '/', message: 'is not valid JSON' }]);
  });

  it('a body that is not JSON is refused rather than ignored', async () => {
    const problem = await problemOf(
      await server.request('alice', '/plugins/greet/execute', {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: 'name=Ada',
      }),
    );
    expect(problem.status).toBe(400);
    expect(problem.errors![0]!.message).toMatch(/application\/json/);
  });

  it('a body over the limit is answered 413 as a problem document', async () => {
    const problem = await problemOf(
      await server.request('alice', '/plugins/greet/execute', postJson({ args: { name: 'x'.repeat(5000) } })),
    );
    expect(problem).toMatchObject({ status: 413, code: 'PLUGBOARD_BODY_TOO_LARGE' });
    expect(problem.detail).toMatch(/2048 bytes/);
  });

  it('an unknown plugin is 404, a plugin that is not ready 409, one without permission 403', async () => {
    expect(
      await problemOf(await server.request('alice', '/plugins/nope/execute', postJson({}))),
    ).toMatchObject({
      status: 404,
      code: 'PLUGBOARD_UNKNOWN_PLUGIN',
    });
    const offline = await problemOf(await server.request('alice', '/plugins/offline/execute', postJson({})));
    expect(offline).toMatchObject({ status: 409, code: 'PLUGBOARD_PLUGIN_NOT_OPERATIONAL' });
    expect(offline.detail).toMatch(/TRANSLATE_URL/);
    expect(
      await problemOf(await server.request('alice', '/plugins/secret/execute', postJson({}))),
    ).toMatchObject({
      status: 403,
      code: 'PLUGBOARD_FORBIDDEN',
    });
    expect(await problemOf(await server.request(null, '/plugins/greet/execute', postJson({})))).toMatchObject(
      {
        status: 401,
        code: 'PLUGBOARD_UNAUTHENTICATED',
      },
    );
  });

  it('a context plugin needs its context id at /context, and an unknown one is 404', async () => {
    const missing = await problemOf(
      await server.request('root', '/plugins/count-words/execute', postJson({})),
    );
    expect(missing).toMatchObject({ status: 400, code: 'PLUGBOARD_CONTEXT_REQUIRED' });
    expect(missing.errors).toEqual([{ path: '/context', message: 'is required' }]);
    const unknown = await problemOf(
      await server.request('root', '/plugins/count-words/execute', postJson({ context: 'b9' })),
    );
    expect(unknown).toMatchObject({ status: 404, code: 'PLUGBOARD_UNKNOWN_CONTEXT' });
    expect(unknown.errors![0]!.path).toBe('/context');
    const ok = await server.request('alice', '/plugins/count-words/execute', postJson({ context: 'b1' }));
    expect(ok.status).toBe(202);
    const { tasks } = await ok.json();
    expect(tasks[0].contextId).toBe('b1');
  });

  it('a plugin that throws is a 500 with its code and message, never a stack', async () => {
    const response = await server.request('root', '/plugins/faulty/execute', postJson({}));
    const text = await response.text();
    expect(response.status).toBe(500);
    const problem = JSON.parse(text);
    expect(problem.code).toBe('PLUGBOARD_CREATE_TASKS_FAILED');
    expect(problem.detail).toMatch(/disk on fire/);
    expect(text).not.toMatch(/at .*\.ts:\d+/);
    expect(text).not.toContain('stack');
    expect(server.reported.length).toBeGreaterThan(0);
  });
});

describe('administering plugins', () => {
  it('a user who is not an administrator may not disable or enable a plugin', async () => {
    for (const action of ['disable', 'enable']) {
      const problem = await problemOf(
        await server.request('alice', `/plugins/greet/${action}`, { method: 'POST' }),
      );
      expect(problem).toMatchObject({ status: 403, code: 'PLUGBOARD_FORBIDDEN' });
    }
    expect(server.host.plugins.get('greet')?.status).toBe('operational');
  });

  it('an administrator disables a plugin (execute then answers 409) and enables it again', async () => {
    const disabled = await server.request('root', '/plugins/slow/disable', { method: 'POST' });
    expect(disabled.status).toBe(200);
    expect(await disabled.json()).toMatchObject({ id: 'slow', status: 'disabled' });
    const refused = await problemOf(await server.request('alice', '/plugins/slow/execute', postJson({})));
    expect(refused).toMatchObject({ status: 409, code: 'PLUGBOARD_PLUGIN_DISABLED' });
    const enabled = await server.request('root', '/plugins/slow/enable', { method: 'POST' });
    expect(await enabled.json()).toMatchObject({ id: 'slow', status: 'operational' });
  });

  it('disabling an unknown plugin is 404', async () => {
    const problem = await problemOf(
      await server.request('root', '/plugins/nope/disable', { method: 'POST' }),
    );
    expect(problem).toMatchObject({ status: 404, code: 'PLUGBOARD_UNKNOWN_PLUGIN' });
  });
});

describe('the signed-in user', () => {
  it('GET /me tells the page who is signed in and whether they administer', async () => {
    expect(await (await server.request('alice', '/me')).json()).toEqual({
      user: { id: 'alice', name: 'Alice' },
      admin: false,
    });
    expect((await (await server.request('root', '/me')).json()).admin).toBe(true);
  });
});
