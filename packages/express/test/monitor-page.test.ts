import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hasChromium } from '../../../test/requirements.js';
import { startServer, type TestServer, USERS } from './helpers.js';

const ARTEFACTS = join(tmpdir(), 'plugboard-express-artefacts');

let server: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const consoleErrors: string[] = [];
const chromiumHere = hasChromium('packages/express/test/monitor-page.test.ts');

beforeAll(async () => {
  if (!chromiumHere) return;
  mkdirSync(ARTEFACTS, { recursive: true });
  server = await startServer({ ui: true });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function openAs(user: string): Promise<Page> {
  await context?.close();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(10_000);
  const { hostname } = new URL(server.url);
  await context.addCookies([{ name: 'user', value: user, domain: hostname, path: '/' }]);
  const opened = await context.newPage();
  opened.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  opened.on('pageerror', (error) => consoleErrors.push(error.message));
  await opened.goto(`${server.url}/#/plugins`);
  await opened.getByRole('status').filter({ hasText: 'Live' }).waitFor();
  return opened;
}

function pluginCard(id: string) {
  return page.locator(`article.plugin[data-plugin-id="${id}"]`);
}

function taskRow(id: string) {
  return page.locator(`#task-rows tr[data-task-id="${id}"]`);
}

function field(card: ReturnType<typeof pluginCard>, name: string) {
  return card.locator(`.field[data-field="${name}"]`);
}

beforeEach(() => {
  consoleErrors.length = 0;
});

describe.skipIf(!chromiumHere)('the monitor page in Chromium', () => {
  it('lists the plugins grouped by category, in sort order, with the reason of those not operational', async () => {
    page = await openAs('alice');
    await expect
      .poll(() => page.locator('section.category h3').allTextContents())
      .toEqual(['Books', 'Maintenance', 'Text']);
    const text = page.locator('section.category', { has: page.locator('h3', { hasText: 'Text' }) });
    expect(await text.locator('article h4').allTextContents()).toEqual(['Greet', 'Offline service']);
    const maintenance = page.locator('section.category', {
      has: page.locator('h3', { hasText: 'Maintenance' }),
    });
    expect(await maintenance.locator('article h4').allTextContents()).toEqual([
      'Slow job',
      'Nightly clean-up',
      'Faulty',
    ]);
    await expect.poll(() => pluginCard('offline').locator('.reason').textContent()).toMatch(/not ready yet/);
    expect(await pluginCard('offline').locator('.badge').textContent()).toBe('Not ready');
    expect(await pluginCard('offline').locator('form').count()).toBe(0);
    expect(await pluginCard('secret').count()).toBe(0);
    expect(await pluginCard('nightly').textContent()).not.toMatch(/null|undefined/);
    expect(await pluginCard('nightly').locator('.schedule').textContent()).toBe(
      'Background task, runs once.',
    );
    expect(await page.getByText('Signed in as Alice').count()).toBe(1);
  });

  it('draws the form from the argument schema: labels, required marks, defaults, help and a select for enums', async () => {
    await pluginCard('greet').getByText('Run Greet').click();
    const name = page.getByLabel('Name');
    expect(await name.getAttribute('aria-required')).toBe('true');
    expect(await field(pluginCard('greet'), 'name').locator('.required').count()).toBe(1);
    expect(await pluginCard('greet').getByText('Who to greet').count()).toBe(1);
    expect(await page.getByLabel('Times').inputValue()).toBe('1');
    expect(await page.getByLabel('Times').getAttribute('type')).toBe('number');
    const tone = page.getByLabel('Tone');
    expect(await tone.evaluate((node) => node.tagName)).toBe('SELECT');
    expect(await tone.locator('option').allTextContents()).toEqual(['plain', 'fancy']);
    expect(await page.getByLabel('Loud').getAttribute('type')).toBe('checkbox');
    expect(await field(pluginCard('greet'), 'loud').locator('.required').count()).toBe(0);
  });

  it('says what is wrong under the field, in words, before anything is sent', async () => {
    await page.getByLabel('Name').fill('Ada');
    await page.getByLabel('Times').fill('9');
    await pluginCard('greet').getByRole('button', { name: 'Run' }).click();
    const error = field(pluginCard('greet'), 'times').locator('.field-error');
    await expect.poll(() => error.textContent()).toBe('Enter a number from 1 to 5.');
    expect(await page.getByLabel('Times').getAttribute('aria-invalid')).toBe('true');
    expect(await field(pluginCard('greet'), 'name').locator('.field-error').textContent()).toBe('');
    expect(await pluginCard('greet').locator('.form-message').textContent()).toBe(
      'Check the field marked above.',
    );
    expect((await server.host.tasks.list({ plugin: 'greet' })).items).toEqual([]);
  });

  it('shows the server’s error under the field it names', async () => {
    await pluginCard('count-words').getByText('Run Count words').click();
    await page.getByLabel('Book id').fill('nope');
    await pluginCard('count-words').getByRole('button', { name: 'Run' }).click();
    const error = field(pluginCard('count-words'), 'bookId').locator('.field-error');
    await expect.poll(() => error.textContent()).toBe('No book has this id.');
  });

  it('runs a plugin from its form and follows its task live to succeeded, progress 100 and the result', async () => {
    await page.getByLabel('Times').fill('3');
    await page.getByLabel('Tone').selectOption('fancy');
    await pluginCard('greet').getByRole('button', { name: 'Run' }).click();
    await expect
      .poll(() => pluginCard('greet').locator('.form-message').textContent())
      .toBe('Started 1 task. Follow it');
    expect(await page.getByLabel('Times').getAttribute('aria-invalid')).toBeNull();
    await pluginCard('greet').getByRole('link', { name: 'Follow it' }).click();
    await expect.poll(() => page.locator('#task-heading').textContent()).toBe('Greet task');
    await expect
      .poll(() => page.locator('.facts dd[data-fact="State"]').textContent(), { timeout: 10_000 })
      .toBe('Succeeded');
    expect(
      await page
        .locator('.progress-line progress')
        .evaluate((node) => (node as unknown as { value: number }).value),
    ).toBe(100);
    expect(await page.locator('.progress-line .percent').textContent()).toBe('100%');
    const result = page.locator('details.json', { hasText: 'Result' });
    await result.locator('summary').click();
    expect(await result.locator('pre').textContent()).toBe(
      '"Salutations, Ada! Salutations, Ada! Salutations, Ada!"'.slice(1, -1),
    );
    await expect.poll(() => page.locator('#log-lines .log-line').count()).toBe(3);
    expect(await page.getByRole('button', { name: 'Cancel task' }).count()).toBe(0);
    await page.screenshot({ path: join(ARTEFACTS, 'monitor-succeeded.png'), fullPage: true });
  });

  it('follows a running task’s progress in the table, and cancels it from its detail', async () => {
    const { tasks } = await server.host.execute('slow', { stepMs: 50 }, { user: USERS.alice! });
    const id = tasks[0]!.id;
    await page.goto(`${server.url}/#/tasks`);
    await expect.poll(() => taskRow(id).locator('td[data-label="State"]').textContent()).toBe('Running');
    await expect
      .poll(() =>
        taskRow(id)
          .locator('progress')
          .evaluate((node) => (node as unknown as { value: number }).value),
      )
      .toBeGreaterThan(0);
    await page.screenshot({ path: join(ARTEFACTS, 'monitor-running.png'), fullPage: true });
    await taskRow(id).getByRole('link').click();
    await page.getByRole('button', { name: 'Cancel task' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel task' }).click();
    await expect.poll(() => page.locator('.facts dd[data-fact="State"]').textContent()).toBe('Cancelled');
    expect(await page.locator('.task-error').textContent()).toMatch(/^Cancelled/);
    expect((await server.host.tasks.get(id))?.state).toBe('cancelled');
  });

  it('filters the task history by state', async () => {
    await page.goto(`${server.url}/#/tasks`);
    await page.locator('#task-rows tr').first().waitFor();
    await page.locator('#filter-state').selectOption('cancelled');
    await expect
      .poll(() => page.locator('#task-rows td[data-label="State"]').allTextContents())
      .toEqual(['Cancelled']);
    await page.locator('#filter-state').selectOption('');
    await expect.poll(() => page.locator('#task-rows tr').count()).toBe(2);
    expect(consoleErrors).toEqual([]);
  });

  it('keeps a task the event stream delivered while the task list was still on its way', async () => {
    await context?.close();
    context = await browser.newContext();
    const { hostname } = new URL(server.url);
    await context.addCookies([{ name: 'user', value: 'alice', domain: hostname, path: '/' }]);
    page = await context.newPage();
    // The server answers the list at once; the page gets the answer only once a task has run and finished.
    let listed!: () => void;
    const listAnswered = new Promise<void>((resolve) => {
      listed = resolve;
    });
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    await page.route(/\/tasks\?/, async (route) => {
      const response = await route.fetch();
      listed();
      await released;
      await route.fulfill({ response });
    });
    await page.goto(`${server.url}/#/tasks`);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await listAnswered;
    const { tasks } = await server.host.execute('greet', { name: 'Late' }, { user: USERS.alice! });
    const id = tasks[0]!.id;
    await server.host.tasks.wait(id);
    await expect.poll(() => taskRow(id).locator('td[data-label="State"]').textContent()).toBe('Succeeded');
    release();
    // The list as the server wrote it (Alice's two earlier tasks) has been drawn, and the later task is still there.
    await page.locator('#task-rows tr').nth(2).waitFor();
    expect(await taskRow(id).count()).toBe(1);
    expect(await taskRow(id).locator('td[data-label="State"]').textContent()).toBe('Succeeded');
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    expect(consoleErrors).toEqual([]);
  });

  it('shows another user none of Alice’s tasks, and an administrator the admin controls', async () => {
    page = await openAs('bob');
    await page.goto(`${server.url}/#/tasks`);
    await page.locator('#task-empty').waitFor();
    expect(await page.locator('#task-rows tr').count()).toBe(0);
    page = await openAs('root');
    expect(await pluginCard('secret').count()).toBe(1);
    expect(await pluginCard('greet').getByRole('button', { name: 'Disable Greet' }).count()).toBe(1);
    await page.goto(`${server.url}/#/tasks`);
    await expect.poll(() => page.locator('#task-rows tr').count()).toBeGreaterThanOrEqual(2);
    await page.screenshot({ path: join(ARTEFACTS, 'monitor-admin.png'), fullPage: true });
  });
});
