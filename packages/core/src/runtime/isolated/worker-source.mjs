// Starts a task worker for a host that runs from the TypeScript sources (tests and development in this
// repository). A worker thread or child process cannot load `.ts` on Node 20, so:
// - when the package's build is at least as new as every source file, the worker runs the built bootstrap
//   (`dist/isolated-worker.js`) and TypeScript plugins' `@plugboard/core` resolves to the build too: fast to start;
// - otherwise jiti compiles `worker-main.ts` and what it imports, with the aliases (JITI_ALIAS) the host's own
//   TypeScript plugin loading uses.
// Published builds start `dist/isolated-worker.js` directly.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const src = fileURLToPath(new URL('../../', import.meta.url));
const dist = fileURLToPath(new URL('../../../dist/', import.meta.url));

function newest(dir) {
  let mtime = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    mtime = Math.max(mtime, entry.isDirectory() ? newest(full) : statSync(full).mtimeMs);
  }
  return mtime;
}

function buildIsCurrent() {
  if (process.env.PLUGBOARD_WORKER_FROM_SOURCE === '1') return false;
  try {
    const built = join(dist, 'isolated-worker.js');
    return existsSync(built) && statSync(built).mtimeMs >= newest(src);
  } catch {
    return false;
  }
}

if (buildIsCurrent()) {
  const alias = process.env.JITI_ALIAS ? JSON.parse(process.env.JITI_ALIAS) : {};
  alias['@plugboard/core'] = join(dist, 'index.js');
  process.env.JITI_ALIAS = JSON.stringify(alias);
  await import(pathToFileURL(join(dist, 'isolated-worker.js')).href);
} else {
  const { createJiti } = await import('jiti');
  const jiti = createJiti(import.meta.url, { interopDefault: false });
  await jiti.import('./worker-main.ts');
}
