import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.config.js';

export default defineConfig({ ...packageBuild, external: ['@plugboard/core'] });
