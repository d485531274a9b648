import { isAbsolute, join, resolve } from 'node:path';
import type { MediaLibrarySettings } from './plugin-classes.ts';

/** The media server's own App Properties: where its data, media and books live. */
export interface MediaServerSettings extends MediaLibrarySettings {
  /** The folder for the server's files: the task store, the catalogue and (by default) the library. */
  readonly dataDir: string;
  /** Plugboard's task store (history, logs, schedules, the plugin catalogue). */
  readonly storeFile: string;
}

/** The environment variables that set the host's App Properties; every one is optional. */
export const SETTING_VARIABLES = {
  primary: 'MEDIA_PRIMARY_FOLDER',
  alternative: 'MEDIA_ALTERNATIVE_FOLDER',
  temp: 'MEDIA_TEMP_FOLDER',
  books: 'BOOK_STORAGE_PATH',
} as const;

/**
 * Reads the App Properties: each folder from its environment variable ({@link SETTING_VARIABLES}), relative
 * paths from the data folder, and by default a sample library under `<dataDir>/library`.
 */
export function resolveSettings(
  dataDir: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): MediaServerSettings {
  const data = resolve(dataDir);
  const library = join(data, 'library');
  const folder = (variable: string, fallback: string) => {
    const value = env[variable]?.trim();
    if (!value) return fallback;
    return isAbsolute(value) ? value : resolve(data, value);
  };
  return {
    dataDir: data,
    storeFile: join(data, 'plugboard.db'),
    catalogueFile: join(data, 'catalogue.db'),
    mediaFolders: {
      primary: folder(SETTING_VARIABLES.primary, join(library, 'media')),
      alternative: folder(SETTING_VARIABLES.alternative, join(library, 'media-alternative')),
      temp: folder(SETTING_VARIABLES.temp, join(library, 'incoming')),
    },
    bookStoragePath: folder(SETTING_VARIABLES.books, join(library, 'books')),
  };
}
