import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  ActionPlugin,
  BackgroundTaskPlugin,
  type Host,
  Task,
  type TaskContext,
  type TaskRecord,
  Type,
} from '@plugboard/core';
import { plugboardRouter } from '@plugboard/express';
import { sqliteStore } from '@plugboard/sqlite';
import { createTestHost } from '@plugboard/testing';
import { taskRecord } from '@plugboard/testing/contracts';
import express from 'express';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium } from '../../../test/requirements.js';
import { PLUGINS, tempDir, USERS, userFromRequest } from './helpers.js';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const chromiumHere = hasChromium('packages/express/test/dashboard-page.test.ts');

class ThumbnailTask extends Task<{ sizes: number[] }, number> {
  async run() {
    return this.input.sizes.length;
  }
}

/** Arguments of every kind a form draws: an array, a nested object, formats, an enum with a default. */
class ThumbnailsPlugin extends ActionPlugin({
  id: 'thumbnails',
  name: 'Make thumbnails',
  description: 'Renders thumbnails of the library covers.',
  category: 'Media',
  args: Type.Object({
    sizes: Type.Array(Type.Integer({ minimum: 16, maximum: 4096 }), {
      minItems: 1,
      description: 'Widths in pixels',
    }),
    owner: Type.Object({
      email: Type.String({ format: 'email', description: 'Who gets the report' }),
      site: Type.Optional(Type.String({ format: 'uri' })),
    }),
    from: Type.String({ format: 'date', description: 'Covers added since this day' }),
    quality: Type.Union([Type.Literal('draft'), Type.Literal('print')], { default: 'draft' }),
  }),
  tasks: [ThumbnailTask],
}) {
  createTasks(args: { sizes: number[] }) {
    return new ThumbnailTask({ sizes: args.sizes });
  }
}

class ReportTask extends Task<Record<string, never>, string> {
  async run() {
    return 'reported';
  }
}

/** Runs every day: the schedules view words it so. */
class DailyReportPlugin extends BackgroundTaskPlugin({
  id: 'daily-report',
  name: 'Daily report',
  category: 'Maintenance',
  delaySeconds: 3600,
  repeatSeconds: 86_400,
  tasks: [ReportTask],
}) {
  createTasks() {
    return new ReportTask({});
  }
}

/** Runs on a cron expression in a time zone: the schedules view shows both. */
class DigestPlugin extends BackgroundTaskPlugin({
  id: 'digest',
  name: 'Digest',
  category: 'Maintenance',
  cron: '0 30 7 * * 1-5',
  timeZone: 'Europe/Berlin',
  tasks: [ReportTask],
}) {
  createTasks() {
    return new ReportTask({});
  }
}

/** Holds the photos of an album until the test lets them finish. */
let releasePhotos: () => void = () => {};
const photosReleased = new Promise<void>((resolve) => {
  releasePhotos = resolve;
});

class PhotoTask extends Task<{ image: string }, string> {
  async run() {
    await photosReleased;
    return `${this.input.image}.png`;
  }
}

/** Starts one child task per photo, then waits for them all. */
class AlbumTask extends Task<{ images: string[] }, number> {
  async run(ctx: TaskContext) {
    const children = [];
    for (const image of this.input.images) children.push(await ctx.spawn(new PhotoTask({ image })));
    const ends = await Promise.all(children.map((child) => child.wait()));
    return ends.filter((end) => end.state === 'succeeded').length;
  }
}

/** Two tasks at a time: the album and its first photo run, the other photos wait for a slot. */
class AlbumPlugin extends ActionPlugin({
  id: 'album',
  name: 'Render album',
  category: 'Media',
  args: Type.Object({ images: Type.Array(Type.String(), { minItems: 1 }) }),
  tasks: [AlbumTask, PhotoTask],
  limits: { concurrency: 2 },
}) {
  createTasks(args: { images: string[] }) {
    return new AlbumTask(args);
  }
}

interface Served {
  host: Host;
  url: string;
  close(): Promise<void>;
}

async function serve(host: Host): Promise<Served> {
  const router = plugboardRouter(host, {
    getUser: userFromRequest,
    isAdmin: (user) => user.id === 'root',
    ui: true,
  });
  const app = express();
  app.use('/plugboard', router);
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    host,
    url: `http://127.0.0.1:${port}/plugboard`,
    async close() {
      router.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await host.stop();
    },
  };
}

let served: Served;
let browser: Browser;
let context: BrowserContext | undefined;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!chromiumHere) return;
  const host = await createTestHost({
    plugins: [...PLUGINS, ThumbnailsPlugin, DailyReportPlugin, DigestPlugin, AlbumPlugin],
    concurrency: 8,
  });
  served = await serve(host);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});

afterAll(async () => {
  releasePhotos();
  await browser?.close();
  await served?.close();
});

async function open(user: string, hash: string, width = 1280, base = served): Promise<Page> {
  await context?.close();
  context = await browser.newContext({ viewport: { width, height: 900 } });
  context.setDefaultTimeout(8000);
  const { hostname } = new URL(base.url);
  await context.addCookies([{ name: 'user', value: user, domain: hostname, path: '/' }]);
  const opened = await context.newPage();
  opened.on('pageerror', (error) => pageErrors.push(error.message));
  opened.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(`${message.text()} ${message.location().url}`);
  });
  await opened.goto(`${base.url}/${hash}`);
  await opened.getByRole('status').filter({ hasText: 'Live' }).waitFor();
  return opened;
}

/** Runs axe-core in the page and returns the WCAG 2.1 A and AA violations, each as `rule: target`. */
async function axeViolations(target: Page): Promise<string[]> {
  // Evaluated through the debugging protocol: the page's Content Security Policy refuses inline scripts.
  await target.evaluate(AXE_SOURCE);
  return target.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: any }).axe;
    const result = await axe.run((globalThis as any).document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return result.violations.flatMap((v: any) =>
      v.nodes.map((n: any) => `${v.id}: ${n.target.join(' ')} ${n.failureSummary}`),
    );
  });
}

function row(id: string) {
  return page.locator(`#task-rows tr[data-task-id="${id}"]`);
}

async function finished(id: string): Promise<TaskRecord> {
  return served.host.tasks.wait(id);
}

describe.skipIf(!chromiumHere)('the monitor dashboard in Chromium', () => {
  it('counts tasks per state and lists them in a table with plugin name, user, duration and progress', async () => {
    const { tasks } = await served.host.execute('greet', { name: 'Ada', times: 2 }, { user: USERS.alice! });
    await finished(tasks[0]!.id);
    await served.host.execute('faulty', {}, { user: USERS.bob! }).catch(() => {});
    page = await open('root', '#/tasks');
    const id = tasks[0]!.id;
    await row(id).waitFor();
    expect(await row(id).locator('td[data-label="Plugin"]').textContent()).toMatch(/^Greet/);
    expect(await row(id).locator('td[data-label="State"]').textContent()).toBe('Succeeded');
    expect(await row(id).locator('td[data-label="User"]').textContent()).toBe('Alice');
    expect(await row(id).locator('td[data-label="Duration"]').textContent()).toMatch(/\d+(\.\d)? (ms|s)$/);
    expect(await row(id).locator('.percent').textContent()).toBe('100%');
    await expect
      .poll(() => page.locator('#task-counts li[data-state="succeeded"] .count-number').textContent())
      .toBe('1');
    expect(await axeViolations(page)).toEqual([]);
  });

  it('keeps the filters in the URL, so a reload shows the same view, and filters users by name', async () => {
    await page.locator('#filter-state').selectOption('succeeded');
    await expect.poll(() => page.url()).toMatch(/#\/tasks\?state=succeeded$/);
    await page.locator('#filter-user').fill('alice');
    await expect.poll(() => page.url()).toMatch(/user=alice/);
    await page.reload();
    await page.locator('#task-rows tr').first().waitFor();
    expect(await page.locator('#filter-state').inputValue()).toBe('succeeded');
    expect(await page.locator('#filter-user').inputValue()).toBe('alice');
    const { tasks } = await served.host.execute('greet', { name: 'Bo' }, { user: USERS.bob! });
    await finished(tasks[0]!.id);
    await page.locator('#filter-user').fill('Bob');
    await expect.poll(() => page.url()).toMatch(/user=bob/);
    await expect.poll(() => page.locator('#task-rows tr').count()).toBe(1);
    expect(await page.locator('#task-rows td[data-label="User"]').textContent()).toBe('Bob');
  });

  it('sorts the loaded rows by a column, said to screen readers with aria-sort', async () => {
    page = await open('root', '#/tasks?sort=plugin');
    await page.locator('#task-rows tr').nth(1).waitFor();
    expect(await page.locator('th[data-sort="plugin"]').getAttribute('aria-sort')).toBe('ascending');
    const names = (await page.locator('#task-rows td[data-label="Plugin"] a').allTextContents()).map((text) =>
      text.replace(/ task \w+$/, ''),
    );
    expect(names).toEqual([...names].sort());
    await page.getByRole('button', { name: 'Plugin' }).click();
    expect(await page.locator('th[data-sort="plugin"]').getAttribute('aria-sort')).toBe('descending');
    expect(page.url()).toMatch(/sort=-plugin/);
  });

  it('shows one task: facts, result collapsed, the whole log with a level filter, and re-runs it as the viewer', async () => {
    const { tasks } = await served.host.execute('greet', { name: 'Cy', times: 3 }, { user: USERS.alice! });
    const id = tasks[0]!.id;
    await finished(id);
    page = await open('alice', `#/tasks/${id}`);
    await expect.poll(() => page.locator('#task-heading').textContent()).toBe('Greet task');
    const facts = page.locator('.facts');
    expect(await facts.textContent()).toContain('Attempts1 of 1');
    expect(await facts.textContent()).toContain('Run byAlice');
    const result = page.locator('details.json', { hasText: 'Result' });
    expect(await result.getAttribute('open')).toBeNull();
    await expect.poll(() => page.locator('#log-lines li').count()).toBe(3);
    await page.locator('#log-level').selectOption('warn');
    expect(await page.locator('#log-lines li').count()).toBe(0);
    await page.locator('#log-level').selectOption('debug');
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Run again' }).click();
    await expect.poll(() => page.url()).not.toContain(id);
    const rerunId = decodeURIComponent(page.url().split('#/tasks/')[1]!);
    const rerun = await finished(rerunId);
    expect(rerun.input).toEqual((await served.host.tasks.get(id))!.input);
    expect(rerun.user.id).toBe('alice');
    await expect.poll(() => page.locator('.facts dd').first().textContent()).toBe('Succeeded');
  });

  it('asks before cancelling, then says who cancelled the task and drops its last status text', async () => {
    const { tasks } = await served.host.execute('slow', { steps: 1000, stepMs: 30 }, { user: USERS.alice! });
    const id = tasks[0]!.id;
    page = await open('alice', `#/tasks/${id}`);
    await expect.poll(() => page.locator('.status-text').textContent()).toMatch(/Step \d+ of 1000/);
    await page.getByRole('button', { name: 'Cancel task' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel this task?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Keep it' }).click();
    expect((await served.host.tasks.get(id))!.state).toBe('running');
    await page.getByRole('button', { name: 'Cancel task' }).click();
    await dialog.getByRole('button', { name: 'Cancel task' }).click();
    await expect.poll(() => page.locator('.task-error').textContent()).toBe('Cancelled by Alice.');
    await expect.poll(() => page.locator('.facts').textContent()).toContain('Cancelled byAlice');
    expect(await page.locator('.status-text').count()).toBe(0);
    expect((await served.host.tasks.get(id))!.error?.cancelledBy).toEqual({ id: 'alice', name: 'Alice' });
  });

  it('lists a task’s children live, links them to their parent and says why a queued one waits', async () => {
    const { tasks } = await served.host.execute('album', { images: ['a', 'b', 'c'] }, { user: USERS.alice! });
    const parentId = tasks[0]!.id;
    let children: TaskRecord[] = [];
    await expect
      .poll(async () => {
        children = await served.host.tasks.children(parentId);
        return children.filter((child) => child.waitingReason).length;
      })
      .toBe(2);
    const waiting = children.find((child) => child.waitingReason)!;
    expect(waiting.waitingReason).toBe('waiting for a slot of plugin album');

    page = await open('alice', `#/tasks/${parentId}`);
    const list = page.locator('#child-list');
    await expect.poll(() => list.locator('li').count()).toBe(3);
    await expect
      .poll(() => page.locator('#children-heading').textContent())
      .toBe('Children (3: 2 queued, 1 running)');
    const item = list.locator(`li[data-task-id="${waiting.id}"]`);
    expect(await item.getByRole('link').textContent()).toBe(`Render album task ${waiting.id.slice(-6)}`);
    expect(await item.locator('.state-line').textContent()).toBe('QueuedWaiting for a slot of plugin album');
    expect(await axeViolations(page)).toEqual([]);

    await item.getByRole('link').click();
    await expect.poll(() => page.url()).toContain(waiting.id);
    const facts = page.locator('.facts');
    await expect.poll(() => facts.textContent()).toContain('WaitingWaiting for a slot of plugin album');
    const parentLink = facts.getByRole('link', { name: `Render album task ${parentId.slice(-6)}` });
    expect(await parentLink.getAttribute('href')).toBe(`#/tasks/${encodeURIComponent(parentId)}`);
    expect(await page.locator('#task-children').isHidden()).toBe(true);
    expect(await axeViolations(page)).toEqual([]);

    page = await open('root', '#/tasks?plugin=album');
    const cell = row(waiting.id).locator('td[data-label="State"]');
    await expect.poll(() => cell.textContent()).toBe('QueuedWaiting for a slot of plugin album');
    expect(
      await page.getByRole('cell', { name: /^Queued\s*Waiting for a slot of plugin album$/ }).count(),
    ).toBe(2);
    expect(await axeViolations(page)).toEqual([]);

    page = await open('alice', `#/tasks/${parentId}`);
    await expect.poll(() => page.locator('#child-list li').count()).toBe(3);
    releasePhotos();
    await expect
      .poll(() => page.locator('#children-heading').textContent())
      .toBe('Children (3: 3 succeeded)');
    expect(await page.locator('#child-list .state-note:not([hidden])').count()).toBe(0);
    expect((await finished(parentId)).result).toBe(3);
    await expect.poll(() => page.locator('.facts dd').first().textContent()).toBe('Succeeded');
  });

  it('cancels every active task of a filtered set after asking', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { tasks } = await served.host.execute('slow', { steps: 1000, stepMs: 50 }, { user: USERS.bob! });
      ids.push(tasks[0]!.id);
    }
    page = await open('root', '#/tasks?plugin=slow');
    await expect.poll(() => page.locator('#bulk-cancel').textContent()).toBe('Cancel 3 active tasks');
    await page.locator('#bulk-cancel').click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel 3 tasks' }).click();
    await expect.poll(() => page.locator('#task-announce').textContent()).toBe('3 tasks cancelled.');
    for (const id of ids) expect((await served.host.tasks.get(id))!.error?.cancelledBy?.id).toBe('root');
    await expect.poll(() => page.locator('#bulk-cancel').isHidden()).toBe(true);
  });

  it('draws forms for arrays, nested objects, formats and enums, and says what is wrong next to the field', async () => {
    page = await open('alice', '#/plugins');
    const card = page.locator('article[data-plugin-id="thumbnails"]');
    await card.getByText('Run Make thumbnails').click();
    const form = card.locator('form');
    expect(await form.getByRole('spinbutton', { name: 'Size 1', exact: true }).getAttribute('type')).toBe(
      'number',
    );
    await form.getByRole('button', { name: 'Add size' }).click();
    expect(await form.getByRole('spinbutton', { name: 'Size 2', exact: true }).count()).toBe(1);
    await form.getByRole('button', { name: 'Remove size 2' }).click();
    expect(await form.getByRole('spinbutton', { name: 'Size 2', exact: true }).count()).toBe(0);
    expect(await form.getByLabel('Email').getAttribute('type')).toBe('email');
    expect(await form.getByLabel('Site').getAttribute('type')).toBe('url');
    expect(await form.getByLabel('From').getAttribute('type')).toBe('date');
    expect(await form.getByLabel('Quality').locator('option').allTextContents()).toEqual(['draft', 'print']);
    await form.getByRole('spinbutton', { name: 'Size 1', exact: true }).fill('8');
    await form.getByLabel('Email').fill('not-an-address');
    await form.getByRole('button', { name: 'Run' }).click();
    const sizeError = form.locator('.field-error').filter({ hasText: /4096/ });
    await expect.poll(() => sizeError.textContent()).toBe('Enter a number from 16 to 4096.');
    expect(
      await form.getByRole('spinbutton', { name: 'Size 1', exact: true }).getAttribute('aria-invalid'),
    ).toBe('true');
    expect(await form.getByText('Enter an email address, like name@example.com.').count()).toBe(1);
    expect(await form.getByText('This is required.').count()).toBe(1);
    expect(await axeViolations(page)).toEqual([]);
    await form.getByRole('spinbutton', { name: 'Size 1', exact: true }).fill('64');
    await form.getByRole('button', { name: 'Add size' }).click();
    await form.getByRole('spinbutton', { name: 'Size 2', exact: true }).fill('128');
    await form.getByLabel('Email').fill('ada@example.com');
    await form.getByLabel('From').fill('2026-01-31');
    await form.getByRole('button', { name: 'Run' }).click();
    await expect.poll(() => form.locator('.form-message').textContent()).toMatch(/^Started 1 task/);
    const { items } = await served.host.tasks.list({ plugin: 'thumbnails' });
    expect((await finished(items[0]!.id)).result).toBe(2);
  });

  it('asks for a context object in words, not as a developer’s message', async () => {
    const card = page.locator('article[data-plugin-id="count-words"]');
    await card.getByText('Run Count words').click();
    await card.getByRole('button', { name: 'Run' }).click();
    await expect.poll(() => card.locator('.field-error').first().textContent()).toBe('This is required.');
    expect(await card.locator('.form-message').textContent()).not.toMatch(/pass its id/);
  });

  it('searches the plugins, and tells a viewer why a plugin is unavailable without the set-up details', async () => {
    await page.locator('#plugin-search').fill('thumb');
    await expect.poll(() => page.locator('article.plugin').count()).toBe(1);
    expect(page.url()).toMatch(/#\/plugins\?q=thumb$/);
    await page.locator('#plugin-search').fill('');
    await expect.poll(() => page.locator('article.plugin').count()).toBeGreaterThan(5);
    const offline = page.locator('article[data-plugin-id="offline"] .reason');
    expect(await offline.textContent()).not.toMatch(/TRANSLATE_URL/);
    expect(await offline.textContent()).toMatch(/not ready/);
    page = await open('root', '#/plugins');
    await expect
      .poll(() => page.locator('article[data-plugin-id="offline"] .reason').textContent())
      .toMatch(/TRANSLATE_URL/);
    expect(await axeViolations(page)).toEqual([]);
  });

  it('asks before disabling a plugin', async () => {
    await page.getByRole('button', { name: 'Disable Greet' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Keep it' }).click();
    expect(served.host.plugins.get('greet')!.status).toBe('operational');
  });

  it('shows schedules with cadence in words, last and next run, and runs one now as the person', async () => {
    page = await open('root', '#/schedules');
    const schedule = page.locator('tr[data-schedule-id="daily-report"]');
    await schedule.waitFor();
    expect(await schedule.locator('td[data-label="Runs"]').textContent()).toBe('Every day (0 so far)');
    expect(await schedule.locator('td[data-label="Last run"]').textContent()).toBe('Not yet');
    expect(await schedule.locator('td[data-label="Next run"]').textContent()).not.toBe('Not planned');
    const cron = page.locator('tr[data-schedule-id="digest"] td[data-label="Runs"]');
    expect(await cron.textContent()).toBe('On cron 0 30 7 * * 1-5, Europe/Berlin time (0 so far)');
    expect(await cron.locator('code').textContent()).toBe('0 30 7 * * 1-5');
    expect(await axeViolations(page)).toEqual([]);
    await schedule.getByRole('button', { name: 'Run now: Daily report' }).click();
    await expect
      .poll(() => schedule.locator('td[data-label="Last run"]').textContent())
      .toMatch(/(Queued|Running|Succeeded)$/);
    const { items } = await served.host.tasks.list({ plugin: 'daily-report' });
    expect(items[0]!.user.id).toBe('root');
  });

  it('fits a 390 px wide screen without sideways scrolling on every view, with no axe violations', async () => {
    const ids = (await served.host.tasks.list({ limit: 1 })).items;
    for (const hash of ['#/tasks', `#/tasks/${ids[0]!.id}`, '#/plugins', '#/schedules']) {
      page = await open('root', hash, 390);
      await page.locator('.view:not([hidden]) h2').first().waitFor();
      await page.waitForTimeout(200);
      const overflow = await page.evaluate(() => {
        const root = (globalThis as any).document.documentElement;
        return root.scrollWidth - root.clientWidth;
      });
      expect(overflow, hash).toBeLessThanOrEqual(0);
      expect(await axeViolations(page), hash).toEqual([]);
    }
    expect(pageErrors).toEqual([]);
  });
});

describe.skipIf(!chromiumHere)('a 10,000-task history', () => {
  let big: Served;

  beforeAll(async () => {
    const store = sqliteStore({ path: join(tempDir(), 'history.db') });
    const host = await createTestHost({ plugins: PLUGINS, store });
    const states = ['succeeded', 'failed', 'cancelled', 'succeeded'] as const;
    for (let i = 0; i < 10_000; i++) {
      const state = states[i % states.length]!;
      await store.insertTask(
        taskRecord({
          pluginId: 'greet',
          user: USERS.alice!,
          state,
          progress: 100,
          startedAt: 1_700_000_000_000 + i * 1000,
          finishedAt: 1_700_000_000_000 + i * 1000 + 850,
          error: state === 'succeeded' ? null : { code: 'PLUGBOARD_TASK_FAILED', message: 'no' },
        }),
      );
    }
    big = await serve(host);
  }, 120_000);

  afterAll(async () => {
    await big?.close();
  });

  it('draws its first page and the counts in under a second, and loads older pages as it scrolls', async () => {
    page = await open('root', '#/plugins', 1280, big);
    const started = Date.now();
    await page.evaluate(() => {
      (globalThis as any).location.hash = '#/tasks';
    });
    await page.locator('#task-rows tr').nth(49).waitFor();
    await page.locator('#task-counts li[data-state="succeeded"]').waitFor();
    const elapsed = Date.now() - started;
    console.info(`first page of a 10,000-task history drawn in ${elapsed} ms`);
    expect(elapsed).toBeLessThan(1000);
    expect(await page.locator('#task-counts li[data-state="succeeded"] .count-number').textContent()).toBe(
      '5000',
    );
    expect(await page.locator('#task-rows tr').count()).toBe(50);
    await page.locator('#task-more').scrollIntoViewIfNeeded();
    await expect.poll(() => page.locator('#task-rows tr').count()).toBeGreaterThanOrEqual(100);
  });
});
