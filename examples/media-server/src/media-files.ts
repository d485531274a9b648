/**
 * File operations the media plugins share: walking a folder, sha256 checksums and their `.sha256` sidecar files
 * (the format `sha256sum -c` reads), and moving a file across disks.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';

/** The extension of checksum sidecar files: `film.mkv` has its checksum in `film.mkv.sha256`. */
export const SIDECAR_EXTENSION = '.sha256';

/** The extension of files still being written (a download or a copy in progress). */
export const PARTIAL_EXTENSION = '.part';

/** One file found by {@link walkFiles}. */
export interface FoundFile {
  /** Absolute path. */
  readonly path: string;
  /** Path relative to the walked folder, with `/` separators. */
  readonly relative: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/**
 * Every regular file under `folder`, depth first in name order. Hidden entries (a leading `.`) and symbolic
 * links are skipped, so a link cannot lead a plugin outside the library.
 */
export async function* walkFiles(folder: string, signal?: AbortSignal): AsyncGenerator<FoundFile> {
  async function* walk(dir: string, prefix: string): AsyncGenerator<FoundFile> {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      signal?.throwIfAborted();
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) yield* walk(path, relative);
      else if (entry.isFile()) {
        const info = await stat(path);
        yield { path, relative, size: info.size, mtimeMs: Math.trunc(info.mtimeMs) };
      }
    }
  }
  yield* walk(folder, '');
}

/** True for a file that is media rather than a sidecar or a partial file. */
export function isMediaFile(name: string): boolean {
  return !name.endsWith(SIDECAR_EXTENSION) && !name.endsWith(PARTIAL_EXTENSION) && !name.startsWith('.');
}

/**
 * The sha256 of a file as lowercase hex, read as a stream. `onBytes` is told how many bytes were read so far.
 */
export async function sha256File(
  path: string,
  options: { signal?: AbortSignal; onBytes?: (read: number) => void } = {},
): Promise<string> {
  const hash = createHash('sha256');
  let read = 0;
  const stream = createReadStream(path, { signal: options.signal, highWaterMark: 256 * 1024 });
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    read += (chunk as Buffer).length;
    options.onBytes?.(read);
  }
  return hash.digest('hex');
}

/** The sidecar file that holds a file's checksum. */
export function sidecarPath(file: string): string {
  return `${file}${SIDECAR_EXTENSION}`;
}

/** The checksum recorded in a file's sidecar; `undefined` when there is none or it holds no checksum. */
export async function readSidecar(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(sidecarPath(file), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return /^([0-9a-f]{64})\b/i.exec(text.trim())?.[1]?.toLowerCase();
}

/** Writes a file's sidecar as `sha256sum` would: `<hash>  <file name>`. */
export async function writeSidecar(file: string, sha256: string): Promise<void> {
  await writeFile(sidecarPath(file), `${sha256}  ${basename(file)}\n`);
}

/** Writes a file through a temporary name and a rename, so readers never see half of it. */
export async function writeFileAtomically(path: string, data: string | Uint8Array): Promise<void> {
  const partial = `${path}${PARTIAL_EXTENSION}`;
  await writeFile(partial, data);
  await rename(partial, path);
}

/** Moves a file; across disks (where a rename cannot) it copies, then removes the original. */
export async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    const partial = `${to}${PARTIAL_EXTENSION}`;
    try {
      await copyFile(from, partial);
      await rename(partial, to);
    } catch (copyError) {
      await rm(partial, { force: true });
      throw copyError;
    }
    await unlink(from);
  }
}

/** A byte count for people: `1.5 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}
