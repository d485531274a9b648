import type { AddressInfo } from 'node:net';
import {
  ActionPlugin,
  BackgroundTaskPlugin,
  type Host,
  type Static,
  Task,
  type TaskContext,
  Type,
} from '@plugboard/core';
import { type PlugboardRouter, plugboardRouter } from '@plugboard/express';
import { createTestHost } from '@plugboard/testing';
import express from 'express';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium } from '../../../test/requirements.js';
import { eventually, postJson, sleep, USERS, userFromRequest } from './helpers.js';
import { EventStreamClient } from './sse-client.js';

const API_KEY = 'pk-7d1e0c9b3a5f-very-secret';
const Secrets = Type.Object({ apiKey: Type.String({ writeOnly: true, default: API_KEY }) });

class VaultTask extends Task<{ mode: string }> {
  async run(ctx: TaskContext) {
    const { apiKey } = ctx.properties as Static<typeof Secrets>;
    ctx.log.info(`signing the request with ${apiKey}`);
    ctx.status(`using ${apiKey}`);
    ctx.progress(50, `key ${apiKey}`);
    if (this.input.mode === 'throw') throw new Error(`the service rejected ${apiKey}`);
    if (this.input.mode === 'wait') {
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
      throw new Error(`stopped while holding ${apiKey}`);
    }
    return { signedWith: apiKey, [apiKey]: true };
  }
}

const VaultArgs = Type.Object({
  mode: Type.Union([Type.Literal('ok'), Type.Literal('throw'), Type.Literal('wait'), Type.Literal('refuse')]),
});

class VaultPlugin extends ActionPlugin({
  id: 'vault',
  name: 'Vault',
  category: 'Secrets',
  args: VaultArgs,
  properties: Secrets,
  tasks: [VaultTask],
}) {
  createTasks(args: Static<typeof VaultArgs>) {
    if (args.mode === 'refuse') throw new Error(`the key ${this.properties.apiKey} is not allowed here`);
    return new VaultTask({ mode: `${args.mode}` });
  }
}

class LockedPlugin extends ActionPlugin({
  id: 'locked',
  name: 'Locked',
  category: 'Secrets',
  properties: Secrets,
  tasks: [VaultTask],
}) {
  override isReady() {
    return { ready: false, reason: `The key ${this.properties.apiKey} expired.` };
  }
  createTasks() {}
}

class NightlyVault extends BackgroundTaskPlugin({
  id: 'nightly-vault',
  name: 'Nightly vault check',
  category: 'Secrets',
  delaySeconds: 3600,
  properties: Secrets,
  tasks: [VaultTask],
}) {
  createTasks() {
    return new VaultTask({ mode: 'ok' });
  }
}

let host: Host;
let router: PlugboardRouter;
let url: string;
let close: () => Promise<void>;
/** Every response body the tests read, with the route it came from. */
const bodies: Array<[string, string]> = [];

async function get(
  path: string,
  init: RequestInit = {},
  user = 'root',
): Promise<{ status: number; text: string }> {
  const headers = new Headers(init.headers);
  headers.set('x-user', user);
  const response = await fetch(`${url}${path}`, { ...init, headers });
  const text = await response.text();
  bodies.push([`${init.method ?? 'GET'} ${path}`, text]);
  return { status: response.status, text };
}

beforeAll(async () => {
  host = await createTestHost({ plugins: [VaultPlugin, LockedPlugin, NightlyVault] });
  router = plugboardRouter(host, {
    getUser: userFromRequest,
    isAdmin: (user) => user.id === 'root',
    ui: true,
    onError: () => {},
  });
  const app = express();
  app.use('/plugboard', router);
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/plugboard`;
  close = async () => {
    router.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await host.stop({ timeoutMs: 500 });
  };
});
afterAll(() => close?.());

describe('a secret App Property over HTTP', () => {
  it('never appears in any response body or event of the API, whatever the plugin does with it', async () => {
    // As the administrator, who is shown the most: every plugin, schedule and task.
    expect(JSON.parse((await get('/me')).text)).toEqual({ user: { id: 'root', name: 'Root' }, admin: true });
    const events = await EventStreamClient.open(`${url}/events`, { 'x-user': 'root' });
    await events.next((e) => e.event === 'ready');

    for (const path of [
      '/me',
      '/plugins',
      '/plugins/vault',
      '/plugins/locked',
      '/plugins/nightly-vault',
      '/openapi.json',
      '/schedules',
      '/',
      '/assets/monitor.js',
      '/assets/monitor.css',
    ]) {
      expect((await get(path)).status).toBe(200);
    }

    const ids: string[] = [];
    for (const mode of ['ok', 'throw']) {
      const { status, text } = await get('/plugins/vault/execute', postJson({ args: { mode } }));
      expect(status).toBe(202);
      ids.push(JSON.parse(text).tasks[0].id);
    }
    expect((await get('/plugins/vault/execute', postJson({ args: { mode: 'refuse' } }))).status).toBe(500);
    expect((await get('/plugins/locked/execute', postJson({ args: {} }))).status).toBe(409);
    const waiting = JSON.parse(
      (await get('/plugins/vault/execute', postJson({ args: { mode: 'wait' } }))).text,
    ).tasks[0].id as string;
    await eventually(async () => ((await host.tasks.get(waiting))?.statusText ? true : undefined));
    expect((await get(`/tasks/${waiting}`)).text).toContain('using [secret]');
    expect((await get(`/tasks/${waiting}/cancel`, { method: 'POST' })).status).toBe(200);
    const triggered = JSON.parse((await get('/schedules/nightly-vault/trigger', { method: 'POST' })).text)
      .tasks[0].id as string;
    ids.push(waiting, triggered);
    for (const id of ids) await host.tasks.wait(id);

    const tasks = JSON.parse((await get('/tasks?limit=50')).text).items as Array<{
      id: string;
      state: string;
    }>;
    expect(tasks.map((t) => t.state).sort()).toEqual(['cancelled', 'failed', 'succeeded', 'succeeded']);
    for (const id of ids) {
      expect((await get(`/tasks/${id}`)).status).toBe(200);
      const logs = await get(`/tasks/${id}/logs`);
      expect(logs.status).toBe(200);
      expect(logs.text).toContain('signing the request with [secret]');
    }
    expect((await get('/plugins/locked/disable', { method: 'POST' })).status).toBe(200);
    expect((await get('/plugins/locked/enable', { method: 'POST' })).status).toBe(200);
    expect((await get('/plugins')).status).toBe(200);
    await sleep(50);
    await events.close();

    expect(bodies.length).toBeGreaterThan(25);
    for (const [route, body] of bodies) expect(body, route).not.toContain(API_KEY);
    expect(events.received.length).toBeGreaterThan(10);
    for (const event of events.received) expect(event.data, event.event).not.toContain(API_KEY);
    expect(events.data('task:log').map((e) => e.entry.message)).toContain(
      'signing the request with [secret]',
    );
  });

  it.skipIf(!hasChromium('packages/express/test/secrets.test.ts'))(
    'never reaches the monitor page in Chromium',
    async () => {
      const browser = await chromium.launch({
        executablePath: '/usr/bin/chromium',
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      });
      try {
        const context = await browser.newContext();
        const { hostname } = new URL(url);
        await context.addCookies([{ name: 'user', value: 'root', domain: hostname, path: '/' }]);
        const page = await context.newPage();
        const responses: Promise<string>[] = [];
        page.on('response', (response) => {
          // The event stream never ends; its frames are checked by the API test above.
          if (!response.url().endsWith('/events')) responses.push(response.text().catch(() => ''));
        });
        await page.goto(`${url}/`);
        await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
        const { tasks } = await host.execute('vault', { mode: 'ok' }, { user: USERS.root });
        await host.tasks.wait(tasks[0]!.id);
        await page.locator(`#task-rows tr[data-task-id="${tasks[0]!.id}"] a`).click();
        await expect
          .poll(() => page.locator('#log-lines').textContent())
          .toContain('signing the request with [secret]');
        await expect
          .poll(() => page.locator('article.plugin[data-plugin-id="locked"]').textContent())
          .toContain('The key [secret] expired.');
        expect(await page.content()).not.toContain(API_KEY);
        for (const text of await Promise.all(responses)) expect(text).not.toContain(API_KEY);
      } finally {
        await browser.close();
      }
    },
  );
});
