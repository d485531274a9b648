import { rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Host } from '@plugboard/core';
import { plugboardRouter } from '@plugboard/express';
import { createTestHost } from '@plugboard/testing';
import express from 'express';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium } from '../../../test/requirements.js';
import { tempDir, userFromRequest } from './helpers.js';
import { EventStreamClient } from './sse-client.js';

/** A plugin module: one plugin per entry, `permissions` when given. */
function pluginModule(plugins: Array<{ id: string; name: string; permissions?: string[] }>): string {
  const classes = plugins.map(
    ({ id, name, permissions }, i) => `
export class Plugin${i} extends ActionPlugin({
  id: '${id}',
  name: '${name}',
  args: Type.Object({}),
  ${permissions ? `permissions: ${JSON.stringify(permissions)},` : ''}
  tasks: [Noop],
}) {
  createTasks() {
    return new Noop({});
  }
}`,
  );
  return `import { ActionPlugin, Task, Type } from '@plugboard/core';
class Noop extends Task<{}> {
  async run() {
    return null;
  }
}
${classes.join('\n')}
`;
}

let host: Host;
let url: string;
let close: () => Promise<void>;
let file: string;

beforeAll(async () => {
  const dir = tempDir({ 'tools.ts': pluginModule([{ id: 'tidy', name: 'Tidy' }]) });
  file = join(dir, 'tools.ts');
  host = await createTestHost({ plugins: { dirs: [dir] } });
  const app = express();
  app.use(
    '/plugboard',
    plugboardRouter(host, { getUser: userFromRequest, isAdmin: (user) => user.id === 'root', ui: true }),
  );
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/plugboard`;
  close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await host.stop();
  };
});
afterAll(() => close?.());

describe('a plugin reloaded while the host runs', () => {
  it('is announced on the event stream to those who may see it; a removal only to administrators', async () => {
    const alice = await EventStreamClient.open(`${url}/events`, { 'x-user': 'alice' });
    const root = await EventStreamClient.open(`${url}/events`, { 'x-user': 'root' });
    await Promise.all([alice.next((e) => e.event === 'ready'), root.next((e) => e.event === 'ready')]);

    writeFileSync(
      file,
      pluginModule([
        { id: 'tidy', name: 'Tidy up' },
        { id: 'vault', name: 'Vault', permissions: ['secret'] },
      ]),
    );
    const reload = await host.plugins.reloadFile(file);
    expect(reload).toMatchObject({ outcome: 'reloaded', reloaded: ['tidy'], added: ['vault'] });
    await root.next((e) => e.event === 'plugin:reloaded' && JSON.parse(e.data).id === 'vault');
    await alice.next((e) => e.event === 'plugin:reloaded' && JSON.parse(e.data).id === 'tidy');
    expect(root.data('plugin:reloaded')).toEqual([
      { id: 'tidy', change: 'reloaded', at: reload.at },
      { id: 'vault', change: 'added', at: reload.at },
    ]);
    // Alice lacks the permission the new plugin needs: she does not learn of it.
    expect(alice.data('plugin:reloaded')).toEqual([{ id: 'tidy', change: 'reloaded', at: reload.at }]);
    // Nothing about the module itself (its path) goes out.
    expect(JSON.stringify(root.received)).not.toContain(file);

    rmSync(file);
    const removal = await host.plugins.reloadFile(file);
    expect(removal).toMatchObject({ removed: ['tidy', 'vault'] });
    await root.next((e) => e.event === 'plugin:reloaded' && JSON.parse(e.data).change === 'removed');
    expect(root.data('plugin:reloaded').filter((d) => d.change === 'removed')).toEqual([
      { id: 'tidy', change: 'removed', at: removal.at },
      { id: 'vault', change: 'removed', at: removal.at },
    ]);
    // A marker event Alice does receive, so her stream has caught up before checking what it lacks.
    writeFileSync(file, pluginModule([{ id: 'tidy', name: 'Tidy again' }]));
    await host.plugins.reloadFile(file);
    await alice.next((e) => e.event === 'plugin:reloaded' && JSON.parse(e.data).change === 'added');
    expect(alice.data('plugin:reloaded').some((d) => d.change === 'removed')).toBe(false);
    await Promise.all([alice.close(), root.close()]);
  });

  it.skipIf(!hasChromium('packages/express/test/reload-events.test.ts'))(
    'updates the monitor page in Chromium: a changed plugin redrawn, a removed one gone',
    async () => {
      writeFileSync(file, pluginModule([{ id: 'tidy', name: 'Tidy v4' }]));
      await host.plugins.reloadFile(file);
      const browser = await chromium.launch({
        executablePath: '/usr/bin/chromium',
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      });
      try {
        const context = await browser.newContext();
        await context.addCookies([{ name: 'user', value: 'root', domain: '127.0.0.1', path: '/' }]);
        const page = await context.newPage();
        await page.goto(`${url}/`);
        await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
        const card = page.locator('article.plugin[data-plugin-id="tidy"]');
        await expect.poll(() => card.locator('h4').textContent()).toBe('Tidy v4');
        writeFileSync(file, pluginModule([{ id: 'tidy', name: 'Tidy v5' }]));
        await host.plugins.reloadFile(file);
        await expect.poll(() => card.locator('h4').textContent()).toBe('Tidy v5');
        rmSync(file);
        await host.plugins.reloadFile(file);
        await expect.poll(() => card.count()).toBe(0);
      } finally {
        await browser.close();
      }
    },
    60_000,
  );
});
