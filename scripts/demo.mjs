#!/usr/bin/env node
// The demo: the media server example (examples/media-server) on the embedded defaults: an in-process task
// runtime and SQLite history kept in examples/media-server/.data, so a restart shows earlier tasks.
// It listens on 127.0.0.1, port PORT or 4870 (a free one when 4870 is taken), and prints the monitor page's
// address. Ctrl+C stops it.
await import('../examples/media-server/start.mjs');
