import { BackgroundTaskPlugin, Task, type TaskContext } from '@plugboard/core';
import { type MediaIndexRow, openCatalogue } from '../src/catalogue.ts';
import { type FoundFile, formatBytes, isMediaFile, sha256File, walkFiles } from '../src/media-files.ts';
import { MEDIA_ROOTS, type MediaFolders, mediaLibrarySettings } from '../src/plugin-classes.ts';

/** What one index run changed. */
export interface ReindexResult {
  readonly files: number;
  readonly added: number;
  readonly updated: number;
  readonly removed: number;
  readonly unchanged: number;
  readonly bytes: number;
}

class ReindexTask extends Task<{ catalogueFile: string; folders: MediaFolders }, ReindexResult> {
  // Re-running from the start is harmless: the index converges on what is on disk.
  static override retrySafe = true;

  async run(ctx: TaskContext): Promise<ReindexResult> {
    const startedAt = Date.now();
    const found: { id: string; root: string; file: FoundFile }[] = [];
    for (const root of MEDIA_ROOTS) {
      ctx.status(`Listing the ${root} folder`);
      for await (const file of walkFiles(this.input.folders[root], ctx.signal)) {
        if (isMediaFile(file.relative)) found.push({ id: `${root}/${file.relative}`, root, file });
      }
    }
    const db = openCatalogue(this.input.catalogueFile);
    try {
      const known = new Map(
        (db.prepare('SELECT * FROM media_index').all() as MediaIndexRow[]).map((row) => [row.id, row]),
      );
      const upsert = db.prepare(
        `INSERT INTO media_index (id, root, size, mtime_ms, sha256, indexed_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET size = excluded.size, mtime_ms = excluded.mtime_ms,
           sha256 = excluded.sha256, indexed_at = excluded.indexed_at`,
      );
      let added = 0;
      let updated = 0;
      let bytes = 0;
      for (const [index, { id, root, file }] of found.entries()) {
        bytes += file.size;
        const row = known.get(id);
        known.delete(id);
        // Only new and changed files are hashed again.
        if (row && row.size === file.size && row.mtime_ms === file.mtimeMs) continue;
        ctx.status(`Hashing ${id}`);
        const sha256 = await sha256File(file.path, { signal: ctx.signal });
        upsert.run(id, root, file.size, file.mtimeMs, sha256, Date.now());
        if (row) updated++;
        else added++;
        ctx.progress(((index + 1) / found.length) * 100);
      }
      const remove = db.prepare('DELETE FROM media_index WHERE id = ?');
      db.transaction(() => {
        for (const id of known.keys()) remove.run(id);
      })();
      const result: ReindexResult = {
        files: found.length,
        added,
        updated,
        removed: known.size,
        unchanged: found.length - added - updated,
        bytes,
      };
      db.prepare(
        `INSERT INTO index_runs (started_at, finished_at, files, added, updated, removed, bytes)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(startedAt, Date.now(), result.files, added, updated, result.removed, bytes);
      ctx.log.info(
        `Indexed ${result.files} media files (${formatBytes(bytes)}): ${added} added, ${updated} updated, ${result.removed} removed.`,
      );
      ctx.status(`${result.files} files indexed`);
      ctx.progress(100);
      return result;
    } finally {
      db.close();
    }
  }
}

/**
 * Re-indexes the media folders into the catalogue: 30 seconds after the server starts, then every night
 * (every 24 hours). A restart replaces the earlier schedule with these settings.
 */
export class LibraryReindexPlugin extends BackgroundTaskPlugin({
  id: 'library-reindex',
  name: 'Re-index the library',
  description:
    'Records every media file with its size and sha256 in the catalogue; hashes only what changed.',
  category: 'Maintenance',
  sortOrder: 1,
  delaySeconds: 30,
  repeatSeconds: 86_400,
  replaceExistingTasks: true,
  tasks: [ReindexTask],
}) {
  createTasks() {
    const settings = mediaLibrarySettings();
    return new ReindexTask({ catalogueFile: settings.catalogueFile, folders: settings.mediaFolders });
  }
}
