// One round of the discovery benchmark in a fresh process: `host` starts a host on the folder, `import` imports
// every file of it. Prints the milliseconds taken and how many plugins were found.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [mode, dir] = process.argv.slice(2);
const core = await import('@plugboard/core');
let ms;
let plugins;
if (mode === 'host') {
  const host = core.createHost({ plugins: { dirs: [dir] }, argv: [], env: false });
  const t0 = performance.now();
  await host.start();
  ms = performance.now() - t0;
  plugins = host.plugins.list().filter((p) => p.status === 'operational').length;
  await host.stop();
} else {
  const t0 = performance.now();
  const files = readdirSync(dir).filter((f) => f.endsWith('.mjs'));
  const modules = await Promise.all(files.map((f) => import(pathToFileURL(join(dir, f)).href)));
  ms = performance.now() - t0;
  plugins = modules.filter((m) => Object.values(m).some((v) => core.isPluginClass(v))).length;
}
process.stdout.write(`${JSON.stringify({ ms, plugins })}\n`);
