#!/usr/bin/env node
// The demo: the media server example (examples/media-server) on the embedded defaults: an in-process task
// runtime and SQLite history kept in examples/media-server/.data, so a restart shows earlier tasks.
// It listens on 127.0.0.1, port PORT or 4870 (a free one when 4870 is taken), and prints the monitor page's
// address. Ctrl+C stops it. On a fresh clone it first installs the npm packages (nothing needs building).
import { installIfNeeded, runStep } from './install-deps.mjs';

if (!installIfNeeded(runStep)) {
  console.error('The npm packages could not be installed; see the output above.');
  process.exit(1);
}
await import('../examples/media-server/start.mjs');
