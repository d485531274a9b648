import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildIfStale } from './package-builds.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Runs an ES module script with `@plugboard/core` from its build, as a host's own script would. */
function runScript(body: string) {
  buildIfStale('core');
  const core = pathToFileURL(`${root}packages/core/dist/index.js`).href;
  const script = `import * as core from ${JSON.stringify(core)};\nconst { ActionPlugin, Task, Type, TaskError, createHost } = core;\n${body}`;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 20_000,
  });
}

describe('a host script', () => {
  it('waiting on a task that waits for its retry keeps the process alive until the task ends', () => {
    const result = runScript(`
let attempts = 0;
class Flaky extends Task {
  static retry = { attempts: 2, delayMs: 300 };
  async run() {
    attempts++;
    if (attempts === 1) throw new TaskError('FIRST', 'the first attempt fails', { retryable: true });
    return { attempts };
  }
}
class FlakyPlugin extends ActionPlugin({ id: 'flaky', name: 'Flaky', args: Type.Object({}), tasks: [Flaky] }) {
  createTasks() { return new Flaky({}); }
}
const host = createHost({ plugins: { classes: [FlakyPlugin] }, env: false, argv: [] });
await host.start();
const { tasks } = await host.execute('flaky', {});
const record = await host.tasks.wait(tasks[0].id);
console.log(JSON.stringify({ state: record.state, attempt: record.attempt }));
await host.stop();
`);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe(JSON.stringify({ state: 'succeeded', attempt: 2 }));
    expect(result.status).toBe(0);
  });

  it('a stopped host lets the process exit though a wait on a queued task is still pending', () => {
    const result = runScript(`
class Slow extends Task {
  async run(ctx) { await new Promise((resolve) => setTimeout(resolve, 60_000).unref()); }
}
class SlowPlugin extends ActionPlugin({ id: 'slow', name: 'Slow', args: Type.Object({}), tasks: [Slow] }) {
  createTasks() { return [new Slow({}), new Slow({})]; }
}
const host = createHost({ plugins: { classes: [SlowPlugin] }, env: false, argv: [], concurrency: 1 });
await host.start();
const { tasks } = await host.execute('slow', {});
host.tasks.wait(tasks[1].id).then(() => console.log('settled'));
await host.stop({ timeoutMs: 50 });
console.log('stopped');
`);
    expect(result.stdout.trim()).toBe('stopped');
    expect(result.status).toBe(0);
  });

  it('an error the host reports with no error listener is written to stderr, not lost', () => {
    const result = runScript(`
const { BackgroundTaskPlugin, memoryStore } = core;
class Tick extends Task { async run() { return 'tick'; } }
class Ticker extends BackgroundTaskPlugin({ id: 'ticker', name: 'Ticker', delaySeconds: 0.05, tasks: [Tick] }) {
  createTasks() { return new Tick({}); }
}
const store = memoryStore();
const save = store.saveSchedule.bind(store);
let failing = false;
store.saveSchedule = async (schedule) => {
  if (failing) throw new Error('the store lost a write');
  return save(schedule);
};
const host = createHost({ plugins: { classes: [Ticker] }, store, env: false, argv: [] });
await host.start();
failing = true;
await new Promise((resolve) => setTimeout(resolve, 300));
failing = false;
await host.stop();
console.log('still running');
`);
    expect(result.stdout.trim()).toBe('still running');
    expect(result.stderr).toContain('the store lost a write');
    expect(result.stderr).toContain("host.events.on('error'");
    expect(result.status).toBe(0);
  });
});
