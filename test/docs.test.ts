import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type DocSample, readSamples } from './doc-samples.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, '.tmp', 'docs');
const previousCwd = process.cwd();
afterEach(() => process.chdir(previousCwd));

/** Names a sample declares at its top level, so the test can read them back. */
function topLevelNames(code: string): string[] {
  const names = new Set<string>();
  for (const match of code.matchAll(/^(?:const|let) (\w+)/gm)) names.add(match[1]!);
  for (const match of code.matchAll(/^(?:const|let) [{[]([^}\]=]+)[}\]]/gm)) {
    for (const part of match[1]!.split(',')) {
      const name = part.split(':').at(-1)!.trim();
      if (/^\w+$/.test(name)) names.add(name);
    }
  }
  return [...names];
}

/** Writes a page's samples into their own folder, the way a reader would lay them out. */
function materialise(page: string): { dir: string; samples: DocSample[] } {
  const samples = readSamples(join(root, page));
  const dir = join(out, page.replace(/\W+/g, '-'));
  rmSync(dir, { recursive: true, force: true });
  for (const sample of samples) {
    const file = join(dir, sample.path);
    mkdirSync(dirname(file), { recursive: true });
    const exports = sample.path.endsWith('host.ts')
      ? `\nexport { ${topLevelNames(sample.code).join(', ')} };\n`
      : '';
    writeFileSync(file, sample.code + exports);
  }
  return { dir, samples };
}

/** Runs a page's host.ts sample (or another `*host.ts`) in its folder and returns what it declared. */
async function runHostSample(page: string, file = 'host.ts'): Promise<Record<string, any>> {
  const { dir } = materialise(page);
  process.chdir(dir);
  return import(pathToFileURL(join(dir, file)).href);
}

const pages = [
  'README.md',
  'docs/plugin-guide.md',
  'docs/host-guide.md',
  'docs/tasks.md',
  'docs/background-tasks.md',
  'docs/testing.md',
  'docs/http.md',
  'docs/hono.md',
  'docs/fastify.md',
  'docs/observability.md',
];

/** Drives the API a server sample of an HTTP page started: lists, runs, follows and pages as a client would. */
async function driveHttpSample(page: string): Promise<void> {
  const { server, shutdown } = await runHostSample(page);
  const address = server.address();
  const base = `http://127.0.0.1:${address.port}/plugboard`;
  const as = { 'x-user': 'ada' };
  try {
    expect((await fetch(`${base}/plugins`)).status).toBe(401);
    const plugins: any = await (await fetch(`${base}/plugins`, { headers: as })).json();
    expect(plugins.items).toEqual([expect.objectContaining({ id: 'hello', status: 'operational' })]);
    const executed = await fetch(`${base}/plugins/hello/execute`, {
      method: 'POST',
      headers: { ...as, 'content-type': 'application/json' },
      body: JSON.stringify({ args: { name: 'Ada' } }),
    });
    expect(executed.status).toBe(202);
    const [task] = ((await executed.json()) as any).tasks;
    let record: any = await (await fetch(`${base}/tasks/${task.id}`, { headers: as })).json();
    for (let i = 0; i < 100 && record.state !== 'succeeded'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      record = await (await fetch(`${base}/tasks/${task.id}`, { headers: as })).json();
    }
    expect(record).toMatchObject({ state: 'succeeded', result: 'Hello, Ada!' });
    const bad = await fetch(`${base}/plugins/hello/execute`, {
      method: 'POST',
      headers: { ...as, 'content-type': 'application/json' },
      body: '{"args":{}}',
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const redirect = await fetch(base, { headers: as, redirect: 'manual' });
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get('location')).toBe('/plugboard/');
    const pageAnswer = await fetch(`${base}/`, { headers: as });
    expect(await pageAnswer.text()).toContain('Plugboard monitor');
    const openapi: any = await (await fetch(`${base}/openapi.json`, { headers: as })).json();
    expect(openapi.servers[0].url).toBe('/plugboard');
  } finally {
    await shutdown();
  }
}

describe('the docs', () => {
  it('README: the plugin and host example runs as written and the greet task succeeds', async () => {
    const { host, report, record } = await runHostSample('README.md');
    expect(report.plugins).toEqual([expect.objectContaining({ id: 'greet', status: 'operational' })]);
    expect(host.plugins.list()[0]).toMatchObject({
      id: 'greet',
      status: 'operational',
      name: 'Greet someone',
    });
    expect(record).toMatchObject({ state: 'succeeded', result: { greeted: 'Hi, Ada' }, progress: 100 });
    expect(host.state).toBe('stopped');
  });

  it('plugin guide: every plugin it writes is operational and does what the guide says', async () => {
    const { report, wordsDone, coverDone, resized, summary } = await runHostSample('docs/plugin-guide.md');
    expect(report.failures).toEqual([]);
    expect(
      Object.fromEntries(report.plugins.map((p: { id: string; status: string }) => [p.id, p.status])),
    ).toEqual({
      archive: 'operational',
      checksum: 'operational',
      'count-by-type': 'operational',
      'nightly-reindex': 'operational',
      'rebuild-cover': 'operational',
      'resize-images': 'operational',
      'word-stats': 'operational',
    });
    expect(wordsDone).toMatchObject({ state: 'succeeded', result: { words: 4 } });
    expect(coverDone).toMatchObject({ state: 'succeeded', result: { cover: '/library/dune/cover-512.jpg' } });
    expect(resized.tasks).toHaveLength(2);
    expect(summary).toEqual(['login: 2, scan: 1']);
  });

  it('host guide: properties come from the environment, logs are kept and refusals are coded', async () => {
    const { record, logs, refusal, history, finished } = await runHostSample('docs/host-guide.md');
    expect(record).toMatchObject({ state: 'succeeded', result: 'Good morning, Ada!' });
    expect(logs.map((l: { message: string }) => l.message)).toEqual(['Good morning, Ada']);
    expect(refusal).toBe('PLUGBOARD_FORBIDDEN');
    expect(history.items).toHaveLength(1);
    expect(finished).toHaveLength(1);
  });

  it('tasks: retries until success, stops on a non-retryable error, pages history', async () => {
    const { done, refused, page, logs, progress } = await runHostSample('docs/tasks.md');
    expect(done).toMatchObject({ state: 'succeeded', attempt: 3, result: { items: 12 } });
    expect(refused).toMatchObject({ state: 'failed', attempt: 1, error: { code: 'FEED_INSECURE' } });
    expect(page.items).toHaveLength(2);
    expect(logs.map((l: { message: string }) => l.message)).toEqual(['fetched on attempt 3']);
    expect(progress).toEqual([]);
  });

  it('tasks: the parent task of a limited plugin waits for its children, listed under it', async () => {
    const { dir } = materialise('docs/tasks.md');
    process.chdir(dir);
    const { parentId, done, children } = await import(pathToFileURL(join(dir, 'flow-control.ts')).href);
    expect(done).toMatchObject({ state: 'succeeded', result: { rendered: 3 } });
    expect(children).toHaveLength(3);
    for (const child of children) {
      expect(child).toMatchObject({ parentId, state: 'succeeded', user: { id: 'ann' } });
    }
  }, 60_000);

  it('tasks: a repeated execute with an idempotency key returns the first tasks; other arguments are refused', async () => {
    const { sameTasks, reuse, host } = await runHostSample('docs/tasks.md', 'idempotent-host.ts');
    expect(sameTasks).toBe(true);
    expect(reuse).toBe('PLUGBOARD_IDEMPOTENCY_KEY_REUSED');
    expect(host.state).toBe('stopped');
  });

  it('background tasks: the schedule runs after its delay and repeats', async () => {
    const { schedule, digest, runs, after } = await runHostSample('docs/background-tasks.md');
    expect(schedule).toMatchObject({ id: 'temp-cleanup', repeatSeconds: 0.2, runs: 0, cron: null });
    expect(runs.items.length).toBeGreaterThanOrEqual(2);
    expect(after.find((s: { id: string }) => s.id === 'temp-cleanup').runs).toBeGreaterThanOrEqual(2);
    // The cron schedule is armed for its next weekday 06:30 in Berlin, and did not run.
    expect(digest).toMatchObject({ cron: '0 30 6 * * 1-5', timeZone: 'Europe/Berlin', runs: 0 });
    const next = new Date(digest.nextRunAt);
    const berlin = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Berlin',
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
    }).format(next);
    expect(berlin).toMatch(/^(Mon|Tue|Wed|Thu|Fri) 06:30$/);
  });

  it('http: the node:http sample serves the API, the monitor page and OpenAPI', async () => {
    await driveHttpSample('docs/http.md');
  });

  it('hono: the Hono sample serves the API, the monitor page and OpenAPI', async () => {
    await driveHttpSample('docs/hono.md');
  });

  it('fastify: the Fastify sample serves the API, the monitor page and OpenAPI', async () => {
    await driveHttpSample('docs/fastify.md');
  });

  it('observability: one trace from the request to the task’s own span, and log lines with secrets replaced', async () => {
    const { record, printed, logged } = await runHostSample('docs/observability.md');
    expect(record).toMatchObject({ state: 'succeeded', result: { file: 'cover.png' } });
    expect(printed).toBe(
      [
        'POST /resize',
        '  execute resize',
        '    run resize/ResizeTask  attempt=1 state=succeeded',
        '      encode jpeg',
      ].join('\n'),
    );
    expect(logged).toContainEqual(
      expect.objectContaining({
        event: 'task:log',
        taskId: record.id,
        pluginId: 'resize',
        attempt: 1,
        userId: 'ada',
        msg: 'resizing cover.png with key [secret]',
      }),
    );
    expect(JSON.stringify(logged)).not.toContain('sk-live-123456');
  });

  it('every code sample compiles under strict TypeScript', () => {
    for (const page of pages) materialise(page);
    const paths = Object.fromEntries(
      ['core', 'testing', 'http'].map((name) => [
        `@plugboard/${name}`,
        [join(root, `packages/${name}/src/index.ts`)],
      ]),
    );
    writeFileSync(
      join(out, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          noEmit: true,
          allowImportingTsExtensions: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [join(root, 'node_modules/@types')],
          paths,
        },
        include: ['**/*.ts'],
      }),
    );
    writeFileSync(join(out, 'package.json'), JSON.stringify({ type: 'module' }));
    const result = spawnSync('npx', ['tsc', '-p', join(out, 'tsconfig.json')], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(result.stdout + result.stderr).not.toContain('error TS');
    expect(result.status).toBe(0);
    // A whole-program type-check: about 15 s alone, longer while the other test files run beside it.
  }, 120_000);
});
