import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type Static, Task, type TaskContext, TaskError, Type } from '@plugboard/core';
import { isMediaFile, moveFile, sha256File, walkFiles, writeSidecar } from '../src/media-files.ts';
import { ActionMediaPlugin } from '../src/plugin-classes.ts';
import { WRITE_MEDIA } from '../src/users.ts';

const ImportArgs = Type.Object({
  target: Type.Union([Type.Literal('primary'), Type.Literal('alternative')], {
    default: 'primary',
    description: 'The media folder the files go to',
  }),
  subfolder: Type.String({
    default: 'Imported',
    pattern: '^[A-Za-z0-9][A-Za-z0-9 _.-]*$',
    maxLength: 64,
    description: 'The folder inside the target that receives them',
  }),
  overwrite: Type.Boolean({ default: false, description: 'Replace a file of the same name in the target' }),
});
type ImportArgs = Static<typeof ImportArgs>;

interface ImportInput {
  readonly source: string;
  readonly sourceId: string;
  readonly destination: string;
  readonly destinationId: string;
  readonly overwrite: boolean;
}

/** Where an imported file ended up. */
export interface ImportResult {
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
}

class ImportFileTask extends Task<ImportInput, ImportResult> {
  async run(ctx: TaskContext): Promise<ImportResult> {
    const { source, sourceId, destination, destinationId } = this.input;
    const info = await stat(source).catch(() => undefined);
    if (!info?.isFile()) {
      throw new TaskError(`${sourceId} left the temp folder before it could be imported.`, {
        retryable: false,
      });
    }
    if (!this.input.overwrite && (await stat(destination).catch(() => undefined))) {
      throw new TaskError(`${destinationId} already exists: import again with overwrite to replace it.`, {
        code: 'MEDIA_IMPORT_EXISTS',
        retryable: false,
      });
    }
    ctx.status(`Hashing ${sourceId}`);
    const sha256 = await sha256File(source, {
      signal: ctx.signal,
      onBytes: (read) => ctx.progress((read / Math.max(info.size, 1)) * 80),
    });
    ctx.signal.throwIfAborted();
    ctx.status(`Moving to ${destinationId}`);
    await mkdir(dirname(destination), { recursive: true });
    await moveFile(source, destination);
    await writeSidecar(destination, sha256);
    ctx.log.info(`Imported ${sourceId} as ${destinationId} (sha256 ${sha256})`);
    ctx.progress(100);
    return { file: destinationId, bytes: info.size, sha256 };
  }
}

/** Moves every file waiting in the temp folder into a media folder: one task per file. */
export class MediaImportPlugin extends ActionMediaPlugin({
  id: 'media-import',
  name: 'Import from the temp folder',
  description: 'Moves each file waiting in the temp folder into a media folder and records its checksum.',
  category: 'Media folders',
  sortOrder: 2,
  permissions: [WRITE_MEDIA],
  args: ImportArgs,
  tasks: [ImportFileTask],
}) {
  async createTasks(args: ImportArgs) {
    const { temp } = this.mediaFolders;
    const tasks: ImportFileTask[] = [];
    for await (const file of walkFiles(temp)) {
      // Partial files are still arriving, and checksums are recomputed on import.
      if (!isMediaFile(file.relative)) continue;
      const relative = `${args.subfolder}/${file.relative}`;
      tasks.push(
        new ImportFileTask({
          source: file.path,
          sourceId: `temp/${file.relative}`,
          destination: join(this.mediaFolders[args.target], ...relative.split('/')),
          destinationId: `${args.target}/${relative}`,
          overwrite: args.overwrite,
        }),
      );
    }
    return tasks;
  }
}
