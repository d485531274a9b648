import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const packageFolder = new URL('../', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('package.json', packageFolder), 'utf8')) as {
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
};

describe('the package manifest', () => {
  it('names @types/express, which its type declarations need, as an optional peer dependency', () => {
    // Express ships no types of its own: the router's declarations import them from @types/express.
    const sources = readdirSync(new URL('src/', packageFolder)).filter((name) => name.endsWith('.ts'));
    const usesExpressTypes = sources.some((name) =>
      /import type [^;]* from 'express'/.test(readFileSync(new URL(`src/${name}`, packageFolder), 'utf8')),
    );
    expect(usesExpressTypes).toBe(true);
    expect(manifest.peerDependencies?.['@types/express']).toBe('^5.0.0');
    expect(manifest.peerDependenciesMeta?.['@types/express']).toEqual({ optional: true });
  });
});
