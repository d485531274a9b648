import { createHash } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type Catalogue, readMeta, writeMeta } from './catalogue.ts';
import { writeSidecar } from './media-files.ts';
import type { MediaRoot } from './plugin-classes.ts';
import type { MediaServerSettings } from './settings.ts';

/** How a sample media file's sidecar starts out, so the integrity check has something to find. */
type SidecarState = 'valid' | 'missing' | 'wrong';

interface SampleMedia {
  readonly root: MediaRoot;
  readonly path: string;
  readonly kib: number;
  readonly sidecar: SidecarState;
}

const SAMPLE_MEDIA: readonly SampleMedia[] = [
  { root: 'primary', path: 'Films/harbour-lights.mp4', kib: 48, sidecar: 'valid' },
  { root: 'primary', path: 'Films/the-night-train.mkv', kib: 64, sidecar: 'valid' },
  { root: 'primary', path: 'Films/lighthouse-keeper.webm', kib: 24, sidecar: 'missing' },
  { root: 'primary', path: 'Music/morning-raga.flac', kib: 40, sidecar: 'valid' },
  { root: 'primary', path: 'Music/tide-pools.ogg', kib: 16, sidecar: 'valid' },
  { root: 'alternative', path: 'Archive/holiday-1998.avi', kib: 32, sidecar: 'wrong' },
  { root: 'alternative', path: 'Archive/wedding-2004.mp4', kib: 28, sidecar: 'valid' },
  { root: 'temp', path: 'new-episode.mkv', kib: 20, sidecar: 'missing' },
  { root: 'temp', path: 'podcast-042.mp3', kib: 12, sidecar: 'missing' },
  { root: 'temp', path: 'scan-0001.jpg', kib: 6, sidecar: 'missing' },
];

/** Leftovers the integrity check reports and its fix mode removes. */
const SAMPLE_LEFTOVERS: readonly { root: MediaRoot; path: string; content: string }[] = [
  // A checksum whose film was deleted.
  {
    root: 'primary',
    path: 'Films/old-cut.mkv.sha256',
    content: `${'0'.repeat(64)}  old-cut.mkv\n`,
  },
  // A download that never finished.
  { root: 'primary', path: 'Films/festival-reel.mp4.part', content: 'interrupted download\n' },
];

const SAMPLE_BOOKS = [
  {
    id: 'moby-dick',
    title: 'Moby-Dick',
    author: 'Herman Melville',
    year: 1851,
    opening: 'Call me Ishmael.',
  },
  {
    id: 'pride-and-prejudice',
    title: 'Pride and Prejudice',
    author: 'Jane Austen',
    year: 1813,
    opening:
      'It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife.',
  },
  {
    id: 'frankenstein',
    title: 'Frankenstein',
    author: 'Mary Shelley',
    year: 1818,
    opening:
      'You will rejoice to hear that no disaster has accompanied the commencement of an enterprise which you have regarded with such evil forebodings.',
  },
] as const;

/** Deterministic stand-in content for a media file: `kib` KiB derived from its name. */
function sampleBytes(name: string, kib: number): Buffer {
  const blocks: Buffer[] = [];
  let seed = createHash('sha256').update(name).digest();
  for (let size = 0; size < kib * 1024; size += seed.length) {
    blocks.push(seed);
    seed = createHash('sha256').update(seed).digest();
  }
  return Buffer.concat(blocks).subarray(0, kib * 1024);
}

async function isEmpty(folder: string): Promise<boolean> {
  return (await readdir(folder)).length === 0;
}

/**
 * Fills a new library with sample media, books and a few problems to find, once: on the first start of a
 * data folder. Folders that already hold files (configured to existing media) are left alone.
 */
export async function createSampleLibrary(
  settings: MediaServerSettings,
  catalogue: Catalogue,
): Promise<void> {
  if (readMeta(catalogue, 'sample_created_at') !== undefined) return;
  const emptyRoots = new Set<MediaRoot>();
  for (const root of ['primary', 'alternative', 'temp'] as const) {
    if (await isEmpty(settings.mediaFolders[root])) emptyRoots.add(root);
  }
  for (const media of SAMPLE_MEDIA) {
    if (!emptyRoots.has(media.root)) continue;
    const path = join(settings.mediaFolders[media.root], media.path);
    await mkdir(dirname(path), { recursive: true });
    const bytes = sampleBytes(media.path, media.kib);
    await writeFile(path, bytes);
    if (media.sidecar === 'valid') await writeSidecar(path, createHash('sha256').update(bytes).digest('hex'));
    // A checksum taken before the file changed on disk.
    if (media.sidecar === 'wrong')
      await writeSidecar(path, createHash('sha256').update(media.path).digest('hex'));
  }
  for (const leftover of SAMPLE_LEFTOVERS) {
    if (!emptyRoots.has(leftover.root)) continue;
    await writeFile(join(settings.mediaFolders[leftover.root], leftover.path), leftover.content);
  }

  const hasBooks = catalogue.prepare('SELECT 1 FROM books LIMIT 1').get() !== undefined;
  if (!hasBooks) {
    const insert = catalogue.prepare(
      'INSERT INTO books (id, title, author, year, folder, added_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    for (const book of SAMPLE_BOOKS) {
      const folder = join(settings.bookStoragePath, book.id);
      await mkdir(join(folder, 'covers'), { recursive: true });
      await writeFile(join(folder, 'text.txt'), `${book.title}\nby ${book.author}\n\n${book.opening}\n`);
      insert.run(book.id, book.title, book.author, book.year, book.id, Date.now());
    }
  }
  writeMeta(catalogue, 'sample_created_at', new Date().toISOString());
}
