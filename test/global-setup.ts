import { buildIfStale } from './package-builds.js';

/**
 * Tests import the packages' sources, but plugin files that Node loads natively (installed packages, CommonJS
 * modules) resolve `@plugboard/core` through node_modules to its build: keep that build current.
 */
export default function setup(): void {
  buildIfStale('core');
}
