import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildIfStale } from './package-builds.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const pluginsDir = fileURLToPath(new URL('./fixtures/isolated-dist/plugins', import.meta.url));

// A published host starts `dist/isolated-worker.js`, a file of its own next to `dist/index.js`: run it from there.
describe('isolated tasks from the built package', () => {
  for (const mode of ['thread', 'process'] as const) {
    it(`runs a JavaScript plugin's tasks in a ${mode} worker started from dist, and ends a spinning one`, async () => {
      buildIfStale('core', 'isolated-worker.js');
      const core = (await import(
        pathToFileURL(`${root}packages/core/dist/index.js`).href
      )) as typeof import('@plugboard/core');
      const host = core.createHost({
        env: false,
        argv: [],
        plugins: { dirs: [pluginsDir] },
        isolation: { mode, graceMs: 100 },
      });
      await host.start();
      try {
        expect(host.report?.plugins.map((p) => [p.id, p.status, p.isolation?.mode])).toEqual([
          ['spin', 'operational', mode],
          ['spin-loud', 'operational', mode],
          ['where', 'operational', mode],
        ]);
        const where = await host.execute('where', {});
        const record = await host.tasks.wait(where.tasks[0]!.id);
        expect(record).toMatchObject({ state: 'succeeded', result: { isMainThread: mode === 'process' } });
        if (mode === 'process') expect((record.result as { pid: number }).pid).not.toBe(process.pid);
        const spin = await host.execute('spin', {}, { timeoutMs: 300 });
        expect(await host.tasks.wait(spin.tasks[0]!.id)).toMatchObject({ state: 'timed-out' });
      } finally {
        await host.stop({ timeoutMs: 100 });
      }
    });
  }
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('a killed host', () => {
  it('leaves no task process behind, even one that spins', async () => {
    buildIfStale('core', 'isolated-worker.js');
    const host = spawn(
      process.execPath,
      [fileURLToPath(new URL('./fixtures/isolated-dist/kill-host.mjs', import.meta.url))],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const pid = await new Promise<number>((resolve, reject) => {
      let out = '';
      host.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /pid (\d+)/.exec(out);
        if (match) resolve(Number(match[1]));
      });
      host.on('exit', () => reject(new Error(`the host ended early: ${out}`)));
    });
    expect(alive(pid)).toBe(true);
    host.kill('SIGKILL');
    const deadline = Date.now() + 5000;
    while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(alive(pid)).toBe(false);
  });
});

describe('a host process with isolated tasks', () => {
  for (const args of [[], ['--no-stop']]) {
    it(`ends on its own once its work is done${args.length ? ', even without host.stop()' : ''}`, () => {
      buildIfStale('core', 'isolated-worker.js');
      const script = fileURLToPath(new URL('./fixtures/isolated-dist/stop-host.mjs', import.meta.url));
      const result = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', timeout: 20_000 });
      expect(result.stdout).toBe('thread succeeded\nprocess succeeded\ndone\n');
      expect(result.status).toBe(0);
    });
  }
});
