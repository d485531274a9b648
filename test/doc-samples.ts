import { readFileSync } from 'node:fs';

/** A code block of a markdown page marked `<!-- sample: relative/path.ts -->`. */
export interface DocSample {
  readonly path: string;
  readonly code: string;
}

/** Reads the marked samples of a markdown page, in order. */
export function readSamples(markdownPath: string): DocSample[] {
  const text = readFileSync(markdownPath, 'utf8');
  const samples: DocSample[] = [];
  const pattern = /<!-- sample: ([^\s]+) -->\s*\n```(?:ts|typescript|js)\n([\s\S]*?)```/g;
  for (const match of text.matchAll(pattern)) samples.push({ path: match[1]!, code: match[2]! });
  return samples;
}
