import { cp } from 'node:fs/promises';
import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.config.js';

export default defineConfig({
  ...packageBuild,
  external: ['@plugboard/core', 'express'],
  // The monitor page ships as plain files beside the bundle: dist/index.js reads them from dist/ui/.
  async onSuccess() {
    await cp('src/ui', 'dist/ui', { recursive: true });
  },
});
