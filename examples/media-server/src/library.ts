import { lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { type BookRow, type Catalogue, openCatalogue } from './catalogue.ts';
import { isMediaFile } from './media-files.ts';
import {
  type Book,
  MEDIA_ROOTS,
  type MediaFile,
  type MediaFolder,
  type MediaLibraryAccess,
  type MediaRoot,
} from './plugin-classes.ts';
import { createSampleLibrary } from './sample-library.ts';
import type { MediaServerSettings } from './settings.ts';

/** A media id split into its root and a path inside it. */
interface ParsedId {
  readonly root: MediaRoot;
  readonly segments: readonly string[];
}

// Ids are typed by people: accept only plain names, so an id can never point outside its root.
function parseMediaId(id: string): ParsedId | undefined {
  if (typeof id !== 'string' || id.length === 0 || id.length > 1024 || id.includes('\\')) return undefined;
  const [root, ...segments] = id.split('/');
  if (!MEDIA_ROOTS.includes(root as MediaRoot)) return undefined;
  if (segments.some((s) => s === '' || s === '.' || s === '..' || s.startsWith('.') || s.includes('\0'))) {
    return undefined;
  }
  return { root: root as MediaRoot, segments };
}

function isInside(parent: string, child: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(sep) ? parent : `${parent}${sep}`);
}

/**
 * The host's library: its settings, its catalogue connection, and how books, media folders and media files are
 * found from the ids people type. It is what the plugin base classes are attached to.
 */
export class MediaLibrary implements MediaLibraryAccess {
  readonly settings: MediaServerSettings;
  readonly #catalogue: Catalogue;

  private constructor(settings: MediaServerSettings, catalogue: Catalogue) {
    this.settings = settings;
    this.#catalogue = catalogue;
  }

  /**
   * Opens the library: creates its folders and catalogue when missing and, on the very first start, fills
   * them with a small sample library.
   */
  static async open(settings: MediaServerSettings): Promise<MediaLibrary> {
    for (const folder of [...Object.values(settings.mediaFolders), settings.bookStoragePath]) {
      mkdirSync(folder, { recursive: true });
    }
    const catalogue = openCatalogue(settings.catalogueFile);
    try {
      await createSampleLibrary(settings, catalogue);
    } catch (error) {
      catalogue.close();
      throw error;
    }
    return new MediaLibrary(settings, catalogue);
  }

  /** Every book, by title. */
  listBooks(): Book[] {
    const rows = this.#catalogue.prepare('SELECT * FROM books ORDER BY title').all() as BookRow[];
    return rows.map((row) => this.#book(row));
  }

  findBook(id: string): Book | undefined {
    const row = this.#catalogue.prepare('SELECT * FROM books WHERE id = ?').get(id) as BookRow | undefined;
    return row ? this.#book(row) : undefined;
  }

  findFolder(id: string): MediaFolder | undefined {
    const parsed = parseMediaId(id);
    if (!parsed) return undefined;
    const path = this.#pathOf(parsed);
    if (!path || !lstatSync(path, { throwIfNoEntry: false })?.isDirectory()) return undefined;
    return { id: [parsed.root, ...parsed.segments].join('/'), root: parsed.root, path };
  }

  findFile(id: string): MediaFile | undefined {
    const parsed = parseMediaId(id);
    // Checksum and partial files belong to a media file; they are not media themselves.
    if (!parsed || parsed.segments.length === 0 || !isMediaFile(parsed.segments.at(-1)!)) return undefined;
    const path = this.#pathOf(parsed);
    const info = path ? lstatSync(path, { throwIfNoEntry: false }) : undefined;
    if (!path || !info?.isFile()) return undefined;
    return {
      id: [parsed.root, ...parsed.segments].join('/'),
      root: parsed.root,
      path,
      folderId: [parsed.root, ...parsed.segments.slice(0, -1)].join('/'),
      size: info.size,
    };
  }

  /** Every media folder id: the roots and the folders inside them, depth first. */
  listFolders(): string[] {
    const ids: string[] = [];
    const walk = (path: string, id: string) => {
      ids.push(id);
      const entries = readdirSync(path, { withFileTypes: true })
        .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
        .sort((a, b) => a.name.localeCompare(b.name));
      for (const entry of entries) walk(join(path, entry.name), `${id}/${entry.name}`);
    };
    for (const root of MEDIA_ROOTS) walk(this.settings.mediaFolders[root], root);
    return ids;
  }

  /** Closes the catalogue connection. */
  close(): void {
    this.#catalogue.close();
  }

  #pathOf(parsed: ParsedId): string | undefined {
    const base = this.settings.mediaFolders[parsed.root];
    const path = resolve(base, ...parsed.segments);
    return isInside(base, path) ? path : undefined;
  }

  #book(row: BookRow): Book {
    return {
      id: row.id,
      title: row.title,
      author: row.author,
      year: row.year,
      folder: join(this.settings.bookStoragePath, row.folder),
    };
  }
}
