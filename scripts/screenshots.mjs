#!/usr/bin/env node
// Captures the monitor page's views in Chromium into docs/images/, from a demonstration host with a few plugins and
// tasks in every state, so the pictures in docs/express.md show the page as it is. Run `npm run build` first (the
// script imports the built packages), then `node scripts/screenshots.mjs`. Needs Chromium at /usr/bin/chromium or
// CHROMIUM_PATH.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ActionPlugin, BackgroundTaskPlugin, Task, Type } from '@plugboard/core';
import { plugboardRouter } from '@plugboard/express';
import { createTestHost } from '@plugboard/testing';
import express from 'express';
import { chromium } from 'playwright-core';

const OUT = fileURLToPath(new URL('../docs/images/', import.meta.url));
const USERS = {
  ada: { id: 'ada', name: 'Ada Lovelace', permissions: ['media'] },
  root: { id: 'root', name: 'Grace (admin)', permissions: ['media'] },
};

const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    const stop = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop);
      resolve();
    }, ms);
    signal?.addEventListener('abort', stop, { once: true });
  });

class ThumbnailTask extends Task {
  async run(ctx) {
    const { sizes, steps } = this.input;
    for (let i = 1; i <= steps; i++) {
      await sleep(40, ctx.signal);
      ctx.log.info(`rendered cover ${i} of ${steps} at ${sizes.join(', ')} px`);
      if (i % 7 === 0) ctx.log.warn(`cover ${i} is smaller than ${sizes[0]} px; kept as is`);
      ctx.status(`Cover ${i} of ${steps}`);
      ctx.progress((i / steps) * 100);
    }
    if (this.input.fail) throw new Error('The cover folder is read-only');
    return { covers: steps, sizes };
  }
}

class ThumbnailsPlugin extends ActionPlugin({
  id: 'thumbnails',
  name: 'Make thumbnails',
  description: 'Renders thumbnails of the library covers.',
  category: 'Media',
  permissions: ['media'],
  args: Type.Object({
    sizes: Type.Array(Type.Integer({ minimum: 16, maximum: 4096 }), {
      minItems: 1,
      default: [64, 128],
      description: 'Widths in pixels',
    }),
    owner: Type.Object({
      email: Type.String({ format: 'email', description: 'Who gets the report' }),
    }),
    since: Type.Optional(Type.String({ format: 'date', description: 'Covers added since this day' })),
    quality: Type.Union([Type.Literal('draft'), Type.Literal('print')], { default: 'draft' }),
    steps: Type.Integer({ minimum: 1, maximum: 1000, default: 20 }),
    fail: Type.Optional(Type.Boolean({ default: false })),
  }),
  tasks: [ThumbnailTask],
}) {
  createTasks(args) {
    return new ThumbnailTask({ sizes: args.sizes, steps: args.steps, fail: args.fail === true });
  }
}

class ScanTask extends Task {
  async run(ctx) {
    ctx.log.info('scanned 1,204 files');
    return { files: 1204 };
  }
}

class LibraryScanPlugin extends BackgroundTaskPlugin({
  id: 'library-scan',
  name: 'Library scan',
  description: 'Looks for new and changed files.',
  category: 'Maintenance',
  delaySeconds: 600,
  repeatSeconds: 86_400,
  tasks: [ScanTask],
}) {
  createTasks() {
    return new ScanTask({});
  }
}

class TranslatorPlugin extends ActionPlugin({
  id: 'translate',
  name: 'Translate titles',
  category: 'Media',
  permissions: ['media'],
  tasks: [ScanTask],
}) {
  isReady() {
    return { ready: false, reason: 'The translation service is unreachable; set TRANSLATE_URL.' };
  }
  createTasks() {
    return new ScanTask({});
  }
}

const host = await createTestHost({ plugins: [ThumbnailsPlugin, LibraryScanPlugin, TranslatorPlugin] });
const router = plugboardRouter(host, {
  getUser: (req) => USERS[/(?:^|;\s*)user=([^;]+)/.exec(req.get('cookie') ?? '')?.[1] ?? ''],
  isAdmin: (user) => user.id === 'root',
  ui: true,
});
const app = express();
app.use('/plugboard', router);
const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const base = `http://127.0.0.1:${server.address().port}/plugboard`;

const run = (args, user = USERS.ada) =>
  host.execute('thumbnails', { owner: { email: 'ada@example.com' }, ...args }, { user });
const done = [];
for (const args of [{ steps: 12 }, { steps: 8, sizes: [256] }, { steps: 14, fail: true }, { steps: 5 }]) {
  const { tasks } = await run(args);
  done.push(tasks[0].id);
}
for (const id of done) await host.tasks.wait(id);
await host.schedules.trigger('library-scan', { user: USERS.root });
const { tasks: cancelled } = await run({ steps: 1000 }, USERS.root);
await sleep(200);
await host.tasks.cancel(cancelled[0].id, { by: USERS.root });
await run({ steps: 1000 });
await run({ steps: 1000 });

mkdirSync(OUT, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
async function capture(name, hash, { width = 1200, height = 760, user = 'root', before } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, colorScheme: 'light' });
  await context.addCookies([{ name: 'user', value: user, domain: '127.0.0.1', path: '/' }]);
  const page = await context.newPage();
  await page.goto(`${base}/${hash}`);
  await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
  await page.locator('.view:not([hidden]) h2').first().waitFor();
  await page.waitForTimeout(400);
  if (before) await before(page);
  await page.screenshot({ path: `${OUT}${name}.png` });
  await context.close();
  console.log(`docs/images/${name}.png`);
}

await capture('monitor-tasks', '#/tasks');
await capture('monitor-task', `#/tasks/${done[2]}`, {
  before: (page) => page.locator('details.json', { hasText: 'Error details' }).locator('summary').click(),
});
await capture('monitor-plugins', '#/plugins', {
  user: 'ada',
  height: 1180,
  before: async (page) => {
    await page.getByText('Run Make thumbnails').click();
    await page.getByRole('button', { name: 'Run' }).click();
    await page.evaluate(() => window.scrollTo(0, 0));
  },
});
await capture('monitor-schedules', '#/schedules');
await capture('monitor-mobile', '#/tasks', { width: 390, height: 844 });

await browser.close();
router.close();
server.closeAllConnections();
server.close();
await host.stop({ timeoutMs: 1000 });
