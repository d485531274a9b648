import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';
import { ActionPlugin, type Static, Task, type TaskContext, Type } from '@plugboard/core';
import { type BookRow, type MediaIndexRow, openCatalogue } from '../src/catalogue.ts';
import { writeFileAtomically } from '../src/media-files.ts';
import { mediaLibrarySettings } from '../src/plugin-classes.ts';
import { READ_MEDIA } from '../src/users.ts';

const ExportArgs = Type.Object({
  format: Type.Union([Type.Literal('csv'), Type.Literal('json')], {
    default: 'csv',
    description: 'csv opens in a spreadsheet; json keeps every field typed',
  }),
});
type ExportArgs = Static<typeof ExportArgs>;

const ExportProperties = Type.Object({
  exportFolder: Type.Optional(
    Type.String({ minLength: 1, description: 'The folder catalogue exports are written to' }),
  ),
});

/** The file an export wrote. */
export interface ExportResult {
  readonly file: string;
  readonly books: number;
  readonly mediaFiles: number;
}

function csvCell(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

class ExportCatalogueTask extends Task<
  { catalogueFile: string; exportFolder: string; format: ExportArgs['format'] },
  ExportResult
> {
  async run(ctx: TaskContext): Promise<ExportResult> {
    const db = openCatalogue(this.input.catalogueFile);
    let books: BookRow[];
    let media: MediaIndexRow[];
    try {
      books = db.prepare('SELECT * FROM books ORDER BY title').all() as BookRow[];
      media = db.prepare('SELECT * FROM media_index ORDER BY id').all() as MediaIndexRow[];
    } finally {
      db.close();
    }
    if (media.length === 0) ctx.log.warn('The media index is empty: run the library re-index to fill it.');
    ctx.progress(50);
    let content: string;
    if (this.input.format === 'json') {
      content = `${JSON.stringify(
        {
          exportedAt: new Date().toISOString(),
          books: books.map(({ id, title, author, year }) => ({ id, title, author, year })),
          media: media.map(({ id, size, sha256 }) => ({ id, size, sha256 })),
        },
        null,
        2,
      )}\n`;
    } else {
      const rows: (string | number | null)[][] = [
        ['kind', 'id', 'title', 'author', 'year', 'size', 'sha256'],
      ];
      for (const b of books) rows.push(['book', b.id, b.title, b.author, b.year, null, null]);
      for (const m of media) rows.push(['media', m.id, null, null, null, m.size, m.sha256]);
      content = `${rows.map((row) => row.map(csvCell).join(',')).join('\n')}\n`;
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const file = join(this.input.exportFolder, `catalogue-${stamp}.${this.input.format}`);
    await writeFileAtomically(file, content);
    ctx.log.info(`Exported ${books.length} books and ${media.length} media files to ${file}`);
    ctx.progress(100);
    return { file, books: books.length, mediaFiles: media.length };
  }
}

/**
 * Exports the catalogue (books and the media index) as CSV or JSON. It is not operational until the App
 * Property `exportFolder` names a writable folder.
 */
export class CatalogueExportPlugin extends ActionPlugin({
  id: 'catalogue-export',
  name: 'Export the catalogue',
  description: 'Writes the books and the media index to a CSV or JSON file in the export folder.',
  category: 'Reports',
  sortOrder: 2,
  permissions: [READ_MEDIA],
  args: ExportArgs,
  properties: ExportProperties,
  tasks: [ExportCatalogueTask],
}) {
  override isReady() {
    const folder = this.properties.exportFolder;
    if (folder === undefined) {
      return {
        ready: false,
        reason:
          'Set the App Property catalogue-export.exportFolder (environment variable PLUGBOARD_CATALOGUE_EXPORT__EXPORT_FOLDER) to the folder exports are written to.',
      };
    }
    try {
      if (!statSync(folder).isDirectory()) throw new Error('not a folder');
      accessSync(folder, constants.W_OK);
    } catch {
      return {
        ready: false,
        reason: `The export folder ${folder} (catalogue-export.exportFolder) is not a writable folder: create it or point the property elsewhere.`,
      };
    }
    return true;
  }

  createTasks(args: ExportArgs) {
    return new ExportCatalogueTask({
      catalogueFile: mediaLibrarySettings().catalogueFile,
      exportFolder: this.properties.exportFolder!,
      format: args.format,
    });
  }
}
