// Writes src/monitor-assets.ts: the monitor page's files (src/ui/) as strings in a module, so that a host bundled
// into one file (esbuild, webpack) serves the page without reading anything from disk. The build runs it first;
// a test fails when the committed module is out of date. After changing src/ui/, run
// `npm run embed-ui --workspace @plugboard/http`.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const PACKAGE = new URL('../', import.meta.url);
/** The page's files and the content type each is served with. */
const FILES = {
  'index.html': 'text/html; charset=utf-8',
  'monitor.js': 'text/javascript; charset=utf-8',
  'monitor.css': 'text/css; charset=utf-8',
};

/** The source of src/monitor-assets.ts for the files in src/ui/ as they are now. */
export function monitorAssetsModule() {
  const entries = Object.entries(FILES).map(([name, type]) => {
    const body = readFileSync(new URL(`src/ui/${name}`, PACKAGE), 'utf8');
    return `  ${JSON.stringify(name)}: {\n    type: ${JSON.stringify(type)},\n    body: ${JSON.stringify(body)},\n  },\n`;
  });
  return [
    '// Generated from src/ui/ by scripts/embed-monitor-page.mjs: do not edit. Change the files in src/ui/, then run',
    '// `npm run embed-ui --workspace @plugboard/http` (the build does it too).',
    '',
    "/** The monitor page's files with their content types, embedded so a bundled host reads nothing from disk. */",
    'export const MONITOR_FILES: Readonly<Record<string, { readonly type: string; readonly body: string }>> = {',
    ...entries,
    '};',
    '',
  ].join('\n');
}

/** Where the module is written. */
export const MONITOR_ASSETS_PATH = fileURLToPath(new URL('src/monitor-assets.ts', PACKAGE));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(MONITOR_ASSETS_PATH, monitorAssetsModule());
}
