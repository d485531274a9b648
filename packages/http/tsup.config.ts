import { writeFileSync } from 'node:fs';
import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.config.js';
import { MONITOR_ASSETS_PATH, monitorAssetsModule } from './scripts/embed-monitor-page.mjs';

// The monitor page's files are embedded in dist/index.js (through src/monitor-assets.ts), so a host that bundles
// its server still serves them; the module is brought up to date with src/ui/ before every build.
writeFileSync(MONITOR_ASSETS_PATH, monitorAssetsModule());

export default defineConfig({ ...packageBuild, external: ['@plugboard/core'] });
