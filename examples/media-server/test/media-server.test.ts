import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TaskRecord } from '@plugboard/core';
import Database from 'better-sqlite3';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSamples } from '../../../test/doc-samples.ts';
import { hasChromium } from '../../../test/requirements.ts';
import { EXAMPLE_DIR, type ServerProcess, startServerProcess } from './server-process.ts';

const DATA = join(EXAMPLE_DIR, '../../.tmp/tests/media-server', `${process.pid}-${Date.now()}`);
const LIBRARY = join(DATA, 'library');
const EXPORTS = join(DATA, 'exports');

let server: ServerProcess;
let browser: Browser | undefined;
/** The README's "add a plugin" file, while the test has it in plugins/. */
let addedPlugin: string | undefined;

/** A JSON answer of the server. */
interface Answer {
  status: number;
  body: any;
}

async function api(user: string | null, path: string, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (user) headers['x-media-user'] = user;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${server.url}/plugboard${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** Executes a plugin as `user` and waits until every task it created has finished. */
async function run(
  user: string,
  plugin: string,
  args: Record<string, unknown> = {},
  context?: string,
): Promise<TaskRecord[]> {
  const started = await api(user, `/plugins/${plugin}/execute`, context ? { args, context } : { args });
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  return Promise.all((started.body.tasks as TaskRecord[]).map((task) => waitFor(user, task.id)));
}

async function waitFor(user: string, id: string): Promise<TaskRecord> {
  for (let i = 0; i < 200; i++) {
    const { body } = await api(user, `/tasks/${id}`);
    if (!['queued', 'running'].includes(body.state)) return body as TaskRecord;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`task ${id} did not finish`);
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

beforeAll(async () => {
  mkdirSync(DATA, { recursive: true });
  server = await startServerProcess({ MEDIA_SERVER_DATA: DATA });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (addedPlugin) rmSync(addedPlugin, { force: true });
  rmSync(DATA, { recursive: true, force: true });
});

describe('the media server, used over HTTP', () => {
  it('creates the sample library on first start: media in three folders and three books in the catalogue', () => {
    expect(existsSync(join(LIBRARY, 'media/Films/harbour-lights.mp4'))).toBe(true);
    expect(existsSync(join(LIBRARY, 'media-alternative/Archive/holiday-1998.avi'))).toBe(true);
    expect(readdirSync(join(LIBRARY, 'incoming')).sort()).toEqual([
      'new-episode.mkv',
      'podcast-042.mp3',
      'scan-0001.jpg',
    ]);
    const db = new Database(join(DATA, 'catalogue.db'), { readonly: true });
    const books = db.prepare('SELECT id FROM books ORDER BY id').all();
    db.close();
    expect(books).toEqual([{ id: 'frankenstein' }, { id: 'moby-dick' }, { id: 'pride-and-prejudice' }]);
  });

  it('lists every plugin for Alice, and the catalogue export as not ready, naming the property it needs', async () => {
    const { status, body } = await api('alice', '/plugins');
    expect(status).toBe(200);
    const plugins = new Map<string, any>(body.items.map((p: any) => [p.id, p]));
    expect([...plugins.keys()].sort()).toEqual([
      'book-covers',
      'catalogue-export',
      'file-checksum',
      'folder-integrity',
      'library-reindex',
      'media-import',
      'storage-report',
    ]);
    expect(plugins.get('catalogue-export')).toMatchObject({
      status: 'not-ready',
      code: 'PLUGBOARD_NOT_READY',
      reason: expect.stringContaining('PLUGBOARD_CATALOGUE_EXPORT__EXPORT_FOLDER'),
    });
    for (const id of plugins.keys()) {
      if (id !== 'catalogue-export') expect(plugins.get(id).status, id).toBe('operational');
    }
    expect(plugins.get('book-covers').context).toMatchObject({ kind: 'book', idArgument: 'bookId' });
    expect(plugins.get('storage-report').schemas.args.properties.groupBy.anyOf).toEqual([
      { const: 'folder', type: 'string' },
      { const: 'extension', type: 'string' },
    ]);
  });

  it('shows Bob, a viewer, only the plugins he may run, and answers 401 to nobody', async () => {
    const { body } = await api('bob', '/plugins');
    expect(body.items.map((p: any) => p.id).sort()).toEqual([
      'catalogue-export',
      'file-checksum',
      'library-reindex',
      'storage-report',
    ]);
    expect((await api(null, '/plugins')).status).toBe(401);
  });

  it('refuses Bob the import with 403 and creates no task', async () => {
    const refused = await api('bob', '/plugins/media-import/execute', { args: {} });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('PLUGBOARD_FORBIDDEN');
    expect(readdirSync(join(LIBRARY, 'incoming'))).toHaveLength(3);
    expect((await api('bob', '/tasks')).body.items).toEqual([]);
  });

  it('checksums one media file for Bob and records the checksum next to the file', async () => {
    const path = join(LIBRARY, 'media/Films/lighthouse-keeper.webm');
    expect(existsSync(`${path}.sha256`)).toBe(false);
    const [task] = await run('bob', 'file-checksum', {}, 'primary/Films/lighthouse-keeper.webm');
    expect(task!.state).toBe('succeeded');
    expect(task!.result).toEqual({
      file: 'primary/Films/lighthouse-keeper.webm',
      bytes: statSync(path).size,
      sha256: sha256(path),
      sidecar: 'written',
    });
    expect(readFileSync(`${path}.sha256`, 'utf8')).toBe(`${sha256(path)}  lighthouse-keeper.webm\n`);
    const [again] = await run(
      'bob',
      'file-checksum',
      { writeSidecar: false },
      'primary/Films/lighthouse-keeper.webm',
    );
    expect(again!.result).toMatchObject({ sidecar: 'matched' });
  });

  it('checks a folder, fixes what it can, and then finds it clean', async () => {
    const films = join(LIBRARY, 'media/Films');
    // The sample starts with a film without checksum; the previous test gave it one, so take it away again.
    rmSync(join(films, 'lighthouse-keeper.webm.sha256'));
    const [check] = await run('alice', 'folder-integrity', { mode: 'check' }, 'primary/Films');
    expect(check!.state).toBe('succeeded');
    expect(check!.result).toEqual({
      folder: 'primary/Films',
      mode: 'check',
      mediaFiles: 3,
      issues: [
        { file: 'festival-reel.mp4.part', problem: 'partial-file', fixed: false },
        { file: 'lighthouse-keeper.webm', problem: 'missing-checksum', fixed: false },
        { file: 'old-cut.mkv.sha256', problem: 'orphan-checksum', fixed: false },
      ],
    });
    expect(existsSync(join(films, 'festival-reel.mp4.part'))).toBe(true);

    const [fix] = await run('alice', 'folder-integrity', { mode: 'fix' }, 'primary/Films');
    expect(fix!.state).toBe('succeeded');
    expect((fix!.result as any).issues.every((issue: any) => issue.fixed)).toBe(true);
    expect(existsSync(join(films, 'festival-reel.mp4.part'))).toBe(false);
    expect(existsSync(join(films, 'old-cut.mkv.sha256'))).toBe(false);
    expect(readFileSync(join(films, 'lighthouse-keeper.webm.sha256'), 'utf8')).toContain(
      sha256(join(films, 'lighthouse-keeper.webm')),
    );

    const [clean] = await run('alice', 'folder-integrity', {}, 'primary/Films');
    expect((clean!.result as any).issues).toEqual([]);
  });

  it('fails the fix of a folder whose damaged file needs a person, and says which file', async () => {
    const [fix] = await run('alice', 'folder-integrity', { mode: 'fix' }, 'alternative');
    expect(fix!.state).toBe('failed');
    expect(fix!.error?.message).toMatch(/Archive\/holiday-1998\.avi \(checksum-mismatch\)/);
    const logs = await api('alice', `/tasks/${fix!.id}/logs`);
    expect(logs.body.items.map((line: any) => `${line.level} ${line.message}`)).toContain(
      'error Archive/holiday-1998.avi: checksum-mismatch',
    );
  });

  it('rebuilds a book’s cover thumbnails as one task per size, in real PPM and SVG files', async () => {
    const ppm = await run('alice', 'book-covers', { sizes: [32, 48], format: 'ppm' }, 'moby-dick');
    expect(ppm.map((t) => t.state)).toEqual(['succeeded', 'succeeded']);
    const covers = join(LIBRARY, 'books/moby-dick/covers');
    const small = readFileSync(join(covers, 'cover-32.ppm'));
    const header = 'P6\n32 48\n255\n';
    expect(small.subarray(0, header.length).toString('ascii')).toBe(header);
    expect(small.length).toBe(header.length + 32 * 48 * 3);
    expect(ppm[1]!.result).toEqual({
      file: 'moby-dick/covers/cover-48.ppm',
      width: 48,
      height: 72,
      bytes: statSync(join(covers, 'cover-48.ppm')).size,
    });

    const [svg] = await run('alice', 'book-covers', { sizes: [120] }, 'frankenstein');
    const drawn = readFileSync(join(LIBRARY, 'books/frankenstein/covers/cover-120.svg'), 'utf8');
    expect(drawn).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="120" height="180"/);
    expect(drawn).toContain('>Frankenstein</text>');
    expect(drawn).toContain('>Mary Shelley</text>');
    expect(svg!.result).toMatchObject({ file: 'frankenstein/covers/cover-120.svg' });
  });

  it('imports every file of the temp folder for Alice, one task each, with their checksums', async () => {
    const incoming = join(LIBRARY, 'incoming');
    const before = Object.fromEntries(
      readdirSync(incoming).map((name) => [name, sha256(join(incoming, name))]),
    );
    const tasks = await run('alice', 'media-import', { target: 'alternative', subfolder: 'New' });
    expect(tasks.map((t) => t.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(readdirSync(incoming)).toEqual([]);
    for (const [name, hash] of Object.entries(before)) {
      const moved = join(LIBRARY, 'media-alternative/New', name);
      expect(sha256(moved)).toBe(hash);
      expect(readFileSync(`${moved}.sha256`, 'utf8')).toBe(`${hash}  ${name}\n`);
    }
    expect(tasks.map((t) => (t.result as any).file).sort()).toEqual([
      'alternative/New/new-episode.mkv',
      'alternative/New/podcast-042.mp3',
      'alternative/New/scan-0001.jpg',
    ]);
    const empty = await api('alice', '/plugins/media-import/execute', { args: {} });
    expect(empty.status).toBe(202);
    expect(empty.body.tasks).toEqual([]);
  });

  it('reports storage per extension with the totals on disk', async () => {
    const [task] = await run('bob', 'storage-report', { groupBy: 'extension' });
    const report = task!.result as any;
    const files = ['media', 'media-alternative', 'incoming'].flatMap((folder) =>
      filesUnder(join(LIBRARY, folder)),
    );
    expect(report.files).toBe(files.length);
    expect(report.bytes).toBe(files.reduce((sum, file) => sum + statSync(file).size, 0));
    const sidecars = report.groups.find((group: any) => group.key === '.sha256');
    expect(sidecars.files).toBe(files.filter((file) => file.endsWith('.sha256')).length);
    expect(report.roots.temp).toEqual({ files: 0, bytes: 0 });
  });

  it('answers a bad select value with 400 on its field, and an unknown book with 404', async () => {
    const bad = await api('bob', '/plugins/storage-report/execute', { args: { groupBy: 'colour' } });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('PLUGBOARD_INVALID_ARGUMENTS');
    expect(bad.body.errors.map((e: any) => e.path)).toContain('/args/groupBy');
    const unknown = await api('alice', '/plugins/book-covers/execute', { args: {}, context: 'ulysses' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('PLUGBOARD_UNKNOWN_CONTEXT');
    const sidecar = await api('bob', '/plugins/file-checksum/execute', {
      args: {},
      context: 'primary/Films/harbour-lights.mp4.sha256',
    });
    expect(sidecar.status).toBe(404);
    const outside = await api('bob', '/plugins/file-checksum/execute', {
      args: {},
      context: 'primary/../../catalogue.db',
    });
    expect(outside.status).toBe(404);
  });

  it('schedules the nightly re-index, which an administrator can run now to fill the catalogue', async () => {
    const schedules = await api('alice', '/schedules');
    expect(schedules.body.items).toEqual([
      expect.objectContaining({ id: 'library-reindex', delaySeconds: 30, repeatSeconds: 86_400 }),
    ]);
    expect((await api('bob', '/schedules/library-reindex/trigger', {})).status).toBe(403);
    const triggered = await api('alice', '/schedules/library-reindex/trigger', {});
    expect(triggered.status).toBe(202);
    const task = await waitFor('alice', triggered.body.tasks[0].id);
    expect(task.state).toBe('succeeded');
    const media = ['media', 'media-alternative', 'incoming']
      .flatMap((folder) => filesUnder(join(LIBRARY, folder)))
      .filter((file) => !file.endsWith('.sha256'));
    // The first scheduled run may have come before this one: what matters is that the index matches the disk.
    expect(task.result).toMatchObject({ files: media.length, removed: 0 });

    const db = new Database(join(DATA, 'catalogue.db'), { readonly: true });
    const row = db
      .prepare('SELECT sha256 FROM media_index WHERE id = ?')
      .get('primary/Films/harbour-lights.mp4') as { sha256: string };
    const count = db.prepare('SELECT COUNT(*) AS n FROM media_index').get() as { n: number };
    db.close();
    expect(row.sha256).toBe(sha256(join(LIBRARY, 'media/Films/harbour-lights.mp4')));
    expect(count.n).toBe(media.length);
  });

  it('stops on SIGTERM with exit code 0; after a restart shows the earlier history, the set property and a new plugin file', async () => {
    const before = (await api('alice', '/tasks?limit=500')).body.items as TaskRecord[];
    expect(before.length).toBeGreaterThanOrEqual(14);
    expect(await server.stop()).toBe(0);
    expect(server.output()).toContain('Stopped.');

    // The README's way to add a plugin: create the file in plugins/, restart, see it.
    const [sample] = readSamples(join(EXAMPLE_DIR, 'README.md'));
    expect(sample?.path).toBe('plugins/book-word-count.ts');
    const pluginFile = join(EXAMPLE_DIR, sample!.path);
    if (!existsSync(pluginFile)) {
      writeFileSync(pluginFile, sample!.code);
      addedPlugin = pluginFile;
    }

    mkdirSync(EXPORTS, { recursive: true });
    server = await startServerProcess({
      MEDIA_SERVER_DATA: DATA,
      PLUGBOARD_CATALOGUE_EXPORT__EXPORT_FOLDER: EXPORTS,
    });
    const after = new Map(
      ((await api('alice', '/tasks?limit=500')).body.items as TaskRecord[]).map((t) => [t.id, t.state]),
    );
    for (const task of before) expect(after.get(task.id), task.pluginId).toBe(task.state);
    // The sample library is created once: the imported files do not come back.
    expect(readdirSync(join(LIBRARY, 'incoming'))).toEqual([]);

    const exporter = await api('bob', '/plugins/catalogue-export');
    expect(exporter.body.status).toBe('operational');
    const [task] = await run('bob', 'catalogue-export', { format: 'csv' });
    expect(task!.state).toBe('succeeded');
    const result = task!.result as { file: string; books: number; mediaFiles: number };
    expect(result).toMatchObject({ books: 3, mediaFiles: 10 });
    const lines = readFileSync(result.file, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('kind,id,title,author,year,size,sha256');
    expect(lines).toContain('book,moby-dick,Moby-Dick,Herman Melville,1851,,');
    expect(lines.filter((line) => line.startsWith('media,'))).toHaveLength(10);
    expect(readdirSync(EXPORTS)).toHaveLength(1);

    expect(server.output()).toContain('plugin book-word-count: operational');
    const added = await api('bob', '/plugins/book-word-count');
    expect(added.body).toMatchObject({
      name: 'Count a book’s words',
      category: 'Books',
      status: 'operational',
    });
    const [counted] = await run('bob', 'book-word-count', {}, 'moby-dick');
    expect(counted!.result).toEqual({ words: 7 });
  });
});

describe.skipIf(!hasChromium('examples/media-server/test/media-server.test.ts'))(
  'the monitor page in Chromium',
  () => {
    it('signs Alice in from the printed address, runs a plugin from its form and shows its task finish', async () => {
      browser = await chromium.launch({
        executablePath: '/usr/bin/chromium',
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      });
      const page = await (await browser.newContext()).newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`${server.monitorUrl}?as=alice`);
      expect(new URL(page.url()).search).toBe('');
      await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
      await page.getByText('Signed in as Alice (administrator)').waitFor();

      await page.getByRole('link', { name: 'Plugins' }).click();
      const card = page.locator('article.plugin[data-plugin-id="storage-report"]');
      await card.getByText('Run Storage report').click();
      const groupBy = card.getByLabel('Group by');
      expect(await groupBy.evaluate((node) => node.tagName)).toBe('SELECT');
      expect(await groupBy.locator('option').allTextContents()).toEqual(['folder', 'extension']);
      await groupBy.selectOption({ label: 'extension' });
      await card.getByRole('button', { name: 'Run' }).click();
      await expect.poll(() => card.locator('.form-message').textContent()).toBe('Started 1 task. Follow it');
      await card.getByRole('link', { name: 'Follow it' }).click();
      await expect
        .poll(() => page.locator('.facts dd[data-fact="State"]').textContent(), { timeout: 10_000 })
        .toBe('Succeeded');
      expect(
        await page.locator('details.json', { hasText: 'Result' }).locator('pre').textContent(),
      ).toContain('"groupBy": "extension"');

      await page.getByRole('link', { name: 'Plugins' }).click();
      const covers = page.locator('article.plugin[data-plugin-id="book-covers"]');
      await covers.getByText('Run Rebuild cover thumbnails').click();
      await covers.getByLabel('Book id').fill('pride-and-prejudice');
      // The sizes start from the schema's default, one field each.
      await covers.getByRole('spinbutton', { name: 'Size 1', exact: true }).fill('40');
      await covers.getByRole('spinbutton', { name: 'Size 2', exact: true }).fill('80');
      await covers.getByRole('button', { name: 'Remove size 3' }).click();
      await covers.getByRole('button', { name: 'Run' }).click();
      await expect.poll(() => covers.locator('.form-message').textContent()).toBe('Started 2 tasks. ');
      await page.getByRole('link', { name: 'Tasks' }).click();
      const coverTasks = page.locator('#task-rows tr', { hasText: 'Rebuild cover thumbnails' });
      // The newest tasks come first; the three cover tasks of the earlier test are further down the history. Both
      // new rows must be there before their states count: a list that still lacks one would show an earlier task.
      await expect
        .poll(
          async () => {
            const states = await coverTasks.locator('td[data-label="State"]').allTextContents();
            return states.length >= 5 ? states.slice(0, 2) : states;
          },
          { timeout: 10_000 },
        )
        .toEqual(['Succeeded', 'Succeeded']);
      expect(readdirSync(join(LIBRARY, 'books/pride-and-prejudice/covers')).sort()).toEqual([
        'cover-40.svg',
        'cover-80.svg',
      ]);

      await page.goto(`${server.monitorUrl}?as=bob`);
      await page.getByText('Signed in as Bob').waitFor();
      await page.locator('article.plugin[data-plugin-id="storage-report"]').waitFor({ state: 'attached' });
      expect(await page.locator('article.plugin[data-plugin-id="media-import"]').count()).toBe(0);
      expect(errors).toEqual([]);
    });
  },
);
