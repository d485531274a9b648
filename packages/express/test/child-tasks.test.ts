import type { AddressInfo } from 'node:net';
import { ActionPlugin, createHost, type Host, Task, type TaskContext, Type } from '@plugboard/core';
import { plugboardRouter } from '@plugboard/express';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The HTTP view of flow control: a parent lists its children and their states, a child names its parent, and a
// task held back by its plugin's limit says why it waits.

class Part extends Task<{ n: number; ms: number }> {
  async run() {
    await new Promise((resolve) => setTimeout(resolve, this.input.ms));
    return this.input.n;
  }
}

class Whole extends Task<{ parts: number; ms: number }> {
  async run(ctx: TaskContext) {
    const children = [];
    for (let n = 1; n <= this.input.parts; n++)
      children.push(await ctx.spawn(new Part({ n, ms: this.input.ms })));
    return (await Promise.all(children.map((c) => c.wait()))).length;
  }
}

class Assemble extends ActionPlugin({
  id: 'assemble',
  name: 'Assemble',
  args: Type.Object({ parts: Type.Integer({ minimum: 1 }), ms: Type.Integer({ minimum: 0 }) }),
  tasks: [Whole, Part],
  limits: { concurrency: 2 },
}) {
  createTasks(args: { parts: number; ms: number }) {
    return new Whole(args);
  }
}

let host: Host;
let base: string;
let close: () => Promise<void>;

beforeAll(async () => {
  host = createHost({ env: false, argv: [], concurrency: 8, plugins: { classes: [Assemble] } });
  await host.start();
  const app = express();
  const router = plugboardRouter(host, { getUser: () => ({ id: 'ann', permissions: [] }) });
  app.use('/plugboard', router);
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/plugboard`;
  close = async () => {
    router.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await host.stop({ timeoutMs: 1000 });
  };
});
afterAll(() => close());

const get = async (path: string) => {
  const response = await fetch(`${base}${path}`);
  return { status: response.status, body: (await response.json()) as Record<string, any> };
};

describe('child tasks and waiting reasons over HTTP', () => {
  it('GET /tasks/:id/children lists the children with their states; each child names its parent', async () => {
    const executed = await fetch(`${base}/plugins/assemble/execute`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ args: { parts: 3, ms: 150 } }),
    });
    const parentId = ((await executed.json()) as { tasks: Array<{ id: string }> }).tasks[0]!.id;
    // The parent holds one of the plugin's two slots: one child runs, the other two wait for the plugin.
    let children: Array<{ id: string; state: string; parentId: string; waitingReason?: string | null }> = [];
    for (let i = 0; i < 200 && children.length < 3; i++) {
      children = (await get(`/tasks/${parentId}/children`)).body.items;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(children.map((c) => c.parentId)).toEqual([parentId, parentId, parentId]);
    const waiting = children.filter((c) => c.state === 'queued');
    expect(waiting.length).toBeGreaterThan(0);
    expect((await get(`/tasks/${waiting[0]!.id}`)).body.waitingReason).toBe(
      'waiting for a slot of plugin assemble',
    );
    await host.tasks.wait(parentId);
    const done = (await get(`/tasks/${parentId}/children`)).body.items as Array<{ state: string }>;
    expect(done.map((c) => c.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });

  it('GET /tasks/:id/children of an unknown task is a coded 404', async () => {
    const { status, body } = await get('/tasks/nope/children');
    expect(status).toBe(404);
    expect(body.code).toBe('PLUGBOARD_UNKNOWN_TASK');
  });
});
