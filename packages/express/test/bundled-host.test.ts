import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MONITOR_ASSETS_PATH, monitorAssetsModule } from '../../http/scripts/embed-monitor-page.mjs';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const uiFile = (name: string) => readFileSync(join(root, 'packages/http/src/ui', name), 'utf8');

// A host that serves the monitor page, bundled into one file as a host that ships its server that way does.
const HOST_SOURCE = `
import express from 'express';
import { createHost } from '@plugboard/core';
import { plugboardRouter } from '@plugboard/express';

const host = createHost({ env: false, argv: [], plugins: { classes: [] } });
await host.start();
const app = express();
app.use('/plugboard', plugboardRouter(host, { getUser: () => ({ id: 'ops' }), ui: true }));
const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write('listening on ' + server.address().port + '\\n');
});
process.on('SIGTERM', () => server.close(() => host.stop().then(() => process.exit(0))));
`;

let folder: string;
let child: ChildProcess | undefined;
let base: string;

beforeAll(async () => {
  // Outside the repository: nothing beside the bundle, no node_modules to fall back on.
  folder = mkdtempSync(join(tmpdir(), 'plugboard-bundled-host-'));
  writeFileSync(join(folder, 'host.mjs'), HOST_SOURCE);
  await build({
    entryPoints: [join(folder, 'host.mjs')],
    outfile: join(folder, 'server.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
    nodePaths: [join(root, 'node_modules')],
    alias: {
      '@plugboard/core/spi': join(root, 'packages/core/src/spi.ts'),
      '@plugboard/core': join(root, 'packages/core/src/index.ts'),
      '@plugboard/http': join(root, 'packages/http/src/index.ts'),
      '@plugboard/express': join(root, 'packages/express/src/index.ts'),
    },
    // Loaded only for TypeScript plugin files, which this host has none of.
    external: ['jiti'],
    // Express is CommonJS: its require() calls of Node's modules need a require in an ES module bundle.
    banner: {
      js: "import { createRequire as bundleRequire } from 'node:module'; const require = bundleRequire(import.meta.url);",
    },
  });
  rmSync(join(folder, 'host.mjs'));
  child = spawn(process.execPath, ['server.mjs'], { cwd: folder, stdio: ['ignore', 'pipe', 'pipe'] });
  base = await new Promise<string>((resolve, reject) => {
    let output = '';
    child!.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const port = /listening on (\d+)/.exec(output)?.[1];
      if (port) resolve(`http://127.0.0.1:${port}/plugboard`);
    });
    child!.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    child!.on('exit', (code) => reject(new Error(`The bundled host exited (${code}): ${output}`)));
  });
}, 60_000);

afterAll(() => {
  child?.kill('SIGTERM');
  rmSync(folder, { recursive: true, force: true });
});

describe('a host bundled into one file', () => {
  it('serves the monitor page and its files without reading them from disk', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toBe(uiFile('index.html'));
    for (const [name, type] of [
      ['monitor.js', 'text/javascript; charset=utf-8'],
      ['monitor.css', 'text/css; charset=utf-8'],
    ]) {
      const asset = await fetch(`${base}/assets/${name}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toBe(type);
      expect(await asset.text()).toBe(uiFile(name!));
    }
  });
});

describe('the embedded monitor page', () => {
  it('is the page in src/ui/ (run `npm run embed-ui --workspace @plugboard/http` after changing it)', () => {
    expect(readFileSync(MONITOR_ASSETS_PATH, 'utf8')).toBe(monitorAssetsModule());
  });
});
