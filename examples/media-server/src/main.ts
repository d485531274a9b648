/**
 * The media server as a process: `node start.mjs`. Reads PORT (default 4870; a taken default falls back to a
 * free port) and MEDIA_SERVER_DATA (default `.data` in the example), prints where the monitor page is, and
 * stops cleanly on Ctrl+C or SIGTERM.
 */
import { delimiter, join, relative } from 'node:path';
import { EXAMPLE_DIR, startMediaServer } from './server.ts';
import { DEMO_USERS, isAdministrator, SIGN_IN_PARAMETER } from './users.ts';

const DEFAULT_PORT = 4870;

function portFromEnv(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`Expected PORT to be an integer from 0 to 65535, got \`${value}\`.`);
  }
  return port;
}

const explicitPort = portFromEnv(process.env.PORT);
const dataDir = process.env.MEDIA_SERVER_DATA || join(EXAMPLE_DIR, '.data');
const port = explicitPort ?? DEFAULT_PORT;
// Extra plugin folders beside plugins/, separated like PATH (tests add plugins that misbehave on purpose).
const extraPluginDirs = (process.env.MEDIA_SERVER_EXTRA_PLUGINS ?? '').split(delimiter).filter(Boolean);
const server = await startMediaServer({
  dataDir,
  port,
  ...(extraPluginDirs.length > 0 ? { pluginDirs: [join(EXAMPLE_DIR, 'plugins'), ...extraPluginDirs] } : {}),
  // A port someone asked for must be the one used; the default may move aside.
  fallbackToFreePort: explicitPort === undefined,
}).catch((error: NodeJS.ErrnoException) => {
  if (error.code === 'EADDRINUSE') {
    console.error(
      `Port ${port} on 127.0.0.1 is taken: stop what uses it, or set PORT to another port (0 picks a free one).`,
    );
  } else {
    console.error('The media server could not start:', error);
  }
  process.exit(1);
});

for (const plugin of server.report.plugins) {
  console.log(`plugin ${plugin.id}: ${plugin.status}${plugin.reason ? ` (${plugin.reason})` : ''}`);
}
for (const failure of server.report.failures) {
  console.error(`plugin file ${failure.source.location} was not loaded: ${failure.reason}`);
}
console.log(`Data folder: ${relative(process.cwd(), server.settings.dataDir) || '.'}`);
console.log(`Monitor page: ${server.monitorUrl}?${SIGN_IN_PARAMETER}=alice`);
for (const user of Object.values(DEMO_USERS)) {
  const role = isAdministrator(user) ? 'administrator' : 'viewer';
  console.log(`  as ${user.name} (${role}): ${server.monitorUrl}?${SIGN_IN_PARAMETER}=${user.id}`);
}
console.log('Press Ctrl+C to stop.');

let signals = 0;
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  signals++;
  if (signals > 1) {
    console.error(`${signal} again: exiting without waiting for running tasks.`);
    process.exit(1);
  }
  console.log(`${signal}: stopping (running tasks get 5 s to finish)...`);
  try {
    await server.stop({ timeoutMs: 5000 });
    console.log('Stopped.');
    process.exit(0);
  } catch (error) {
    console.error('Stopping failed:', error);
    process.exit(1);
  }
}
process.on('SIGINT', (signal) => void shutdown(signal));
process.on('SIGTERM', (signal) => void shutdown(signal));
