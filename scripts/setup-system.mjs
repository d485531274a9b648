#!/usr/bin/env node
// Installs the Debian packages the tests drive for real when they are missing: redis-server (BullMQ), chromium
// (the monitor page), tmux (the CLI on a terminal), mount (the tmpfs of the SQLite disk-fault tests) and postgresql
// (the PostgreSQL store's tests start throwaway clusters with its /usr/lib/postgresql/<version>/bin/initdb).
// Runs as part of `npm test`; needs root for apt-get, which CI and the development machines have.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const wanted = [
  { binary: '/usr/bin/redis-server', pkg: 'redis-server' },
  { binary: '/usr/bin/chromium', pkg: 'chromium' },
  { binary: '/usr/bin/tmux', pkg: 'tmux' },
  { binary: '/usr/bin/mount', pkg: 'mount' },
  { binary: '/usr/bin/pg_ctlcluster', pkg: 'postgresql' },
];
const missing = wanted.filter((w) => !existsSync(w.binary)).map((w) => w.pkg);
if (missing.length === 0) {
  console.log(`system packages present: ${wanted.map((w) => w.pkg).join(', ')}`);
  process.exit(0);
}
if (typeof process.getuid === 'function' && process.getuid() !== 0) {
  console.error(
    `missing system packages: ${missing.join(', ')}; install them as root: \`sudo apt-get install ${missing.join(' ')}\` (or \`sudo node scripts/setup-system.mjs\`).`,
  );
  process.exit(1);
}
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const apt = (args) => spawnSync('apt-get', args, { stdio: 'inherit', env }).status === 0;
console.log(`installing ${missing.join(', ')} with apt-get`);
if (!apt(['update', '-qq']) || !apt(['install', '-y', '-qq', '--no-install-recommends', ...missing])) {
  console.error('apt-get failed');
  process.exit(1);
}
