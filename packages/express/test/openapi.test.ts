import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemOf, startServer, type TestServer } from './helpers.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 with the router mount as its server and every route described', async () => {
    const response = await server.request('root', '/openapi.json');
    expect(response.status).toBe(200);
    const doc = await response.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: 'Plugboard API', version: expect.any(String) });
    expect(doc.servers).toEqual([{ url: '/plugboard' }]);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/plugins',
        '/plugins/{id}',
        '/plugins/{id}/execute',
        '/plugins/{id}/disable',
        '/plugins/{id}/enable',
        '/tasks',
        '/tasks/{id}',
        '/tasks/{id}/logs',
        '/tasks/{id}/children',
        '/tasks/{id}/cancel',
        '/schedules',
        '/schedules/{id}/trigger',
        '/events',
        '/openapi.json',
      ]),
    );
    expect(doc.paths['/events'].get.responses['200'].content).toHaveProperty('text/event-stream');
    expect(doc.paths['/tasks'].get.responses['400'].content['application/problem+json'].schema).toEqual({
      $ref: '#/components/schemas/Problem',
    });
  });

  it("each plugin's execute body carries the plugin's own argument schema", async () => {
    const doc = await (await server.request('root', '/openapi.json')).json();
    const greet = doc.paths['/plugins/greet/execute'].post;
    const body = greet.requestBody.content['application/json'].schema;
    expect(body.properties.args).toEqual({ $ref: '#/components/schemas/Args.greet' });
    const plugin = server.host.plugins.get('greet')!;
    expect(doc.components.schemas['Args.greet']).toEqual(plugin.schemas.args);
    expect(Object.keys(greet.responses)).toEqual(['202', '400', '401', '403', '404', '409', '413', '422']);
    const context =
      doc.paths['/plugins/count-words/execute'].post.requestBody.content['application/json'].schema;
    expect(context.required).toEqual(['context']);
    expect(context.properties.context.description).toMatch(/book/);
  });

  it('every $ref resolves inside the document', async () => {
    const doc = await (await server.request('root', '/openapi.json')).json();
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) {
      const name = ref.slice('"$ref":"#/components/schemas/'.length, -1);
      expect(doc.components.schemas, ref).toHaveProperty([name]);
    }
  });

  it('lists only the plugins the user may see, and needs a user', async () => {
    const doc = await (await server.request('alice', '/openapi.json')).json();
    expect(doc.paths).toHaveProperty(['/plugins/greet/execute']);
    expect(doc.paths).not.toHaveProperty(['/plugins/secret/execute']);
    expect(doc.components.schemas).not.toHaveProperty(['Args.secret']);
    expect((await problemOf(await server.request(null, '/openapi.json'))).status).toBe(401);
  });
});
