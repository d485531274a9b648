import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createHost, type Host, type PluginReload } from '@plugboard/core';
import { afterEach, describe, expect, it } from 'vitest';
import { ExitCode, runCli } from '../src/index.js';
import { startCli } from './run-fixture.js';

const scratch = fileURLToPath(new URL('../../../.tmp/tests/', import.meta.url));

/** A fresh plugin folder inside the repository, so its TypeScript modules resolve `@plugboard/core`. */
function pluginFolder(files: Record<string, string>): string {
  mkdirSync(scratch, { recursive: true });
  const dir = mkdtempSync(join(scratch, 'plugboard-dev-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

/** Saves a file as many editors do: a temporary file renamed over it. */
function save(file: string, content: string): void {
  writeFileSync(`${file}.tmp~`, content);
  renameSync(`${file}.tmp~`, file);
}

function greeter(id: string, greeting: string): string {
  return `
import { ActionPlugin, Task } from '@plugboard/core';
class Greet extends Task { run() { return '${greeting}'; } }
export class Greeter extends ActionPlugin({ id: '${id}', name: 'Greeter', tasks: [Greet] }) {
  createTasks() { return new Greet({}); }
}
`;
}

describe('dev, as a process', () => {
  it('prints a line per reload, added and removed plugin and failed reload, and exits 0 on Ctrl-C', async () => {
    const dir = pluginFolder({ 'hello.ts': greeter('hello', 'hello') });
    const cli = startCli(['dev'], { FIXTURE_PLUGIN_DIR: dir, NO_COLOR: '1' });
    await cli.waitFor('press Ctrl-C to stop');
    // Paths are shown relative to the working folder.
    expect(cli.stdout()).toContain(`Watching ${relative(process.cwd(), dir)} for changes`);
    expect(cli.stdout()).toMatch(/^ {2}hello operational$/m);

    save(join(dir, 'hello.ts'), greeter('hello', 'bonjour'));
    await cli.waitFor('hello.ts: reloaded hello (');

    save(join(dir, 'hello.ts'), `${greeter('hello', 'broken')}\nexport const oops = ;\n`);
    await cli.waitFor('hello.ts: reload failed; the previous version of hello keeps running');
    expect(cli.stderr()).toMatch(/could not be loaded: .*\(PLUGBOARD_PLUGIN_LOAD_FAILED\)/s);

    save(join(dir, 'other.ts'), greeter('other', 'hi'));
    await cli.waitFor('other.ts: added other');
    rmSync(join(dir, 'other.ts'));
    await cli.waitFor('other.ts: removed other');

    cli.child.kill('SIGINT');
    const { code, signal, stdout } = await cli.exited;
    expect(signal).toBeNull();
    expect(code).toBe(0);
    expect(stdout).toContain('Stopped watching.');
  });

  it('--json prints each reload as one line of JSON', async () => {
    const dir = pluginFolder({ 'hello.ts': greeter('hello', 'hello') });
    const cli = startCli(['dev', '--json'], { FIXTURE_PLUGIN_DIR: dir });
    // Nothing is printed before the first reload: wait until the watcher is up by retrying the edit.
    let n = 0;
    const edit = setInterval(() => save(join(dir, 'hello.ts'), greeter('hello', `v${++n}`)), 300);
    try {
      await cli.waitFor('"outcome":"reloaded"');
    } finally {
      clearInterval(edit);
    }
    const reload = JSON.parse(cli.stdout().split('\n')[0]!) as PluginReload;
    expect(reload).toMatchObject({
      source: { type: 'file', location: join(dir, 'hello.ts') },
      trigger: 'watch',
      outcome: 'reloaded',
      reloaded: ['hello'],
    });
    cli.child.kill('SIGTERM');
    expect((await cli.exited).code).toBe(0);
  });
});

describe('dev, in process', () => {
  const hosts: Host[] = [];
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.stop()));
  });

  function capture() {
    const stream = new PassThrough();
    let text = '';
    stream.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
    });
    return { stream, text: () => text };
  }

  it('reloads plugins of a running host until the signal aborts, then resolves 0 and stops watching', async () => {
    const dir = pluginFolder({ 'hello.ts': greeter('hello', 'hello') });
    const host = createHost({ plugins: { dirs: [dir] }, env: false, argv: [] });
    hosts.push(host);
    await host.start();
    const stdout = capture();
    const controller = new AbortController();
    const exit = runCli(host, ['dev'], {
      from: 'user',
      stdout: stdout.stream,
      stderr: capture().stream,
      env: { NO_COLOR: '1' },
      signal: controller.signal,
      handleSignals: false,
    });
    const reloaded = new Promise<PluginReload>((resolve) => host.events.once('plugin:reloaded', resolve));
    save(join(dir, 'hello.ts'), greeter('hello', 'bonjour'));
    await reloaded;
    const { tasks } = await host.execute('hello');
    expect((await host.tasks.wait(tasks[0]!.id)).result).toBe('bonjour');

    controller.abort();
    expect(await exit).toBe(ExitCode.Success);
    expect(stdout.text()).toMatch(/hello\.ts: reloaded hello \(\d+ ms\)/);
    // The host it was given keeps running, without the watcher.
    expect(host.state).toBe('started');
    const later: PluginReload[] = [];
    host.events.on('plugin:reloaded', (reload) => later.push(reload));
    save(join(dir, 'hello.ts'), greeter('hello', 'hola'));
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(later).toEqual([]);
  });

  it('is listed in the help with the other built-in commands', async () => {
    const host = createHost({ env: false, argv: [] });
    hosts.push(host);
    const stdout = capture();
    const code = await runCli(host, ['--help'], {
      from: 'user',
      stdout: stdout.stream,
      env: { NO_COLOR: '1' },
    });
    expect(code).toBe(ExitCode.Success);
    expect(stdout.text()).toMatch(
      /^ {2}dev \[options\]\s+Watch the plugin folders and reload a plugin when its files change/m,
    );
  });

  it('exits 1 when the host has no plugin folder to watch', async () => {
    const host = createHost({ env: false, argv: [] });
    hosts.push(host);
    const stderr = capture();
    const code = await runCli(host, ['dev'], {
      from: 'user',
      stdout: capture().stream,
      stderr: stderr.stream,
      env: { NO_COLOR: '1' },
      handleSignals: false,
    });
    expect(code).toBe(ExitCode.TaskFailed);
    expect(stderr.text()).toContain(
      'error: There is no plugin folder to watch: give the host `plugins.dirs` with folders that exist. (PLUGBOARD_INVALID_OPTION)',
    );
  });
});
