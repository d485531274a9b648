/**
 * The base classes of the media server's plugins. Plugin authors import them from here:
 *
 * - `ActionBookPlugin`: runs in the context of one book and knows the book storage path;
 * - `ActionMediaPlugin`: a general media plugin that knows the primary, alternative and temp media folders;
 * - `ActionMediaFolderPlugin`: runs in the context of one media folder;
 * - `ActionMediaFilePlugin`: runs in the context of one media file.
 *
 * General plugins extend `ActionPlugin` and background jobs `BackgroundTaskPlugin` from `@plugboard/core`.
 */
import {
  ActionPlugin,
  ContextPlugin,
  defineContextKind,
  type EmptyObjectSchema,
  PlugboardError,
  type PluginDefinition,
  type TObject,
} from '@plugboard/core';

/** The three media folders of the library. */
export type MediaRoot = 'primary' | 'alternative' | 'temp';

/** Every media root, in the order reports list them. */
export const MEDIA_ROOTS: readonly MediaRoot[] = ['primary', 'alternative', 'temp'];

/** The media folders as absolute paths. */
export interface MediaFolders {
  /** Where the library's media live. */
  readonly primary: string;
  /** A second media folder, e.g. on another disk. */
  readonly alternative: string;
  /** Where new files arrive before they are imported. */
  readonly temp: string;
}

/** The host's App Properties that plugins may read: its folders and its catalogue. */
export interface MediaLibrarySettings {
  readonly mediaFolders: MediaFolders;
  /** The folder every book's files live under, one sub-folder per book. */
  readonly bookStoragePath: string;
  /** The library's own SQLite database: books, the media index and index runs. */
  readonly catalogueFile: string;
}

/** A book of the library, as plugins acting on one book receive it. */
export interface Book {
  /** The id people pass as `bookId`, e.g. `moby-dick`. */
  readonly id: string;
  readonly title: string;
  readonly author: string;
  readonly year: number | null;
  /** The book's own folder (absolute), inside the book storage path. */
  readonly folder: string;
}

/** A folder in one of the media roots, as folder plugins receive it. */
export interface MediaFolder {
  /** `<root>` or `<root>/<relative path>`, e.g. `primary/Films`. */
  readonly id: string;
  readonly root: MediaRoot;
  /** The absolute path. */
  readonly path: string;
}

/** A media file (not a `.sha256` or `.part` file) in one of the media roots, as file plugins receive it. */
export interface MediaFile {
  /** `<root>/<relative path>`, e.g. `primary/Films/harbour-lights.mp4`. */
  readonly id: string;
  readonly root: MediaRoot;
  /** The absolute path. */
  readonly path: string;
  /** The id of the folder that holds it. */
  readonly folderId: string;
  readonly size: number;
}

/** What the base classes need from the host: its settings and how it finds books, folders and files. */
export interface MediaLibraryAccess {
  readonly settings: MediaLibrarySettings;
  findBook(id: string): Book | undefined;
  findFolder(id: string): MediaFolder | undefined;
  findFile(id: string): MediaFile | undefined;
}

let attached: MediaLibraryAccess | undefined;

/**
 * Connects the plugin classes to the host's library. The media server calls it once before its Plugboard
 * host starts; the returned function disconnects it again on shutdown.
 */
export function attachMediaLibrary(library: MediaLibraryAccess): () => void {
  attached = library;
  return () => {
    if (attached === library) attached = undefined;
  };
}

/** The host's library; throws when plugins are used outside a running media server. */
function library(): MediaLibraryAccess {
  if (!attached) {
    throw new PlugboardError(
      'PLUGBOARD_HOST_NOT_STARTED',
      'The media library is not attached: media plugins run inside the media server (src/server.ts), which attaches it before its host starts.',
    );
  }
  return attached;
}

/** The host's App Properties (media folders, book storage path, catalogue file), for any plugin. */
export function mediaLibrarySettings(): MediaLibrarySettings {
  return library().settings;
}

/** One book of the library; the id argument is `bookId`. */
export const bookKind = defineContextKind<Book>({
  id: 'book',
  idArgument: 'bookId',
  description: 'The id of the book, e.g. moby-dick',
  resolve: (id) => library().findBook(id),
});

/** One folder in a media root; the id argument is `folder`. */
export const mediaFolderKind = defineContextKind<MediaFolder>({
  id: 'media-folder',
  idArgument: 'folder',
  description: 'The media folder: primary, alternative or temp, then its path, e.g. primary/Films',
  resolve: (id) => library().findFolder(id),
});

/** One file in a media root; the id argument is `file`. */
export const mediaFileKind = defineContextKind<MediaFile>({
  id: 'media-file',
  idArgument: 'file',
  description: 'The media file: its root and path, e.g. primary/Films/harbour-lights.mp4',
  resolve: (id) => library().findFile(id),
});

/**
 * Base class of a plugin that runs in the context of one book. `createTasks(args, book)` receives the
 * resolved {@link Book}; `this.bookStoragePath` is the folder all books live under.
 */
export function ActionBookPlugin<
  A extends TObject = EmptyObjectSchema,
  P extends TObject = EmptyObjectSchema,
  F extends TObject = EmptyObjectSchema,
>(definition: PluginDefinition<A, P, F>) {
  abstract class BookPlugin extends ContextPlugin(bookKind, definition) {
    /** The folder every book's files live under: the host's book storage path. */
    get bookStoragePath(): string {
      return library().settings.bookStoragePath;
    }
  }
  return BookPlugin;
}

/**
 * Base class of a general media plugin: `this.mediaFolders` holds the primary, alternative and temp media
 * folders. `createTasks(args)` works as in any `ActionPlugin`.
 */
export function ActionMediaPlugin<
  A extends TObject = EmptyObjectSchema,
  P extends TObject = EmptyObjectSchema,
  F extends TObject = EmptyObjectSchema,
>(definition: PluginDefinition<A, P, F>) {
  abstract class MediaPlugin extends ActionPlugin(definition) {
    /** The primary, alternative and temp media folders (absolute paths). */
    get mediaFolders(): MediaFolders {
      return library().settings.mediaFolders;
    }
  }
  return MediaPlugin;
}

/**
 * Base class of a plugin that runs in the context of one media folder: `createTasks(args, folder)` receives
 * the resolved {@link MediaFolder}. It knows the media folders as well.
 */
export function ActionMediaFolderPlugin<
  A extends TObject = EmptyObjectSchema,
  P extends TObject = EmptyObjectSchema,
  F extends TObject = EmptyObjectSchema,
>(definition: PluginDefinition<A, P, F>) {
  abstract class MediaFolderPlugin extends ContextPlugin(mediaFolderKind, definition) {
    /** The primary, alternative and temp media folders (absolute paths). */
    get mediaFolders(): MediaFolders {
      return library().settings.mediaFolders;
    }
  }
  return MediaFolderPlugin;
}

/**
 * Base class of a plugin that runs in the context of one media file: `createTasks(args, file)` receives the
 * resolved {@link MediaFile}. It knows the media folders as well.
 */
export function ActionMediaFilePlugin<
  A extends TObject = EmptyObjectSchema,
  P extends TObject = EmptyObjectSchema,
  F extends TObject = EmptyObjectSchema,
>(definition: PluginDefinition<A, P, F>) {
  abstract class MediaFilePlugin extends ContextPlugin(mediaFileKind, definition) {
    /** The primary, alternative and temp media folders (absolute paths). */
    get mediaFolders(): MediaFolders {
      return library().settings.mediaFolders;
    }
  }
  return MediaFilePlugin;
}
