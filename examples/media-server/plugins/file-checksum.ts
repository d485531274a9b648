import { stat } from 'node:fs/promises';
import { type Static, Task, type TaskContext, TaskError, Type } from '@plugboard/core';
import { formatBytes, readSidecar, sha256File, sidecarPath, writeSidecar } from '../src/media-files.ts';
import { ActionMediaFilePlugin, type MediaFile } from '../src/plugin-classes.ts';
import { READ_MEDIA } from '../src/users.ts';

const ChecksumArgs = Type.Object({
  writeSidecar: Type.Boolean({
    default: true,
    description: 'Record the checksum in a .sha256 file next to the media file when it has none',
  }),
});
type ChecksumArgs = Static<typeof ChecksumArgs>;

/** What the checksum task found: the hash and how it compares to the recorded one. */
export interface ChecksumResult {
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
  /** `written`: no checksum was recorded and now is; `matched` / `mismatch`: compared to the recorded one. */
  readonly sidecar: 'written' | 'matched' | 'mismatch' | 'none';
}

class ChecksumTask extends Task<{ id: string; path: string; writeSidecar: boolean }, ChecksumResult> {
  static override retrySafe = true;

  async run(ctx: TaskContext): Promise<ChecksumResult> {
    const { id, path } = this.input;
    const bytes = await stat(path).then(
      (info) => info.size,
      (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
        throw new TaskError(`${id} was removed before it could be hashed.`, { retryable: false });
      },
    );
    ctx.status(`Hashing ${id} (${formatBytes(bytes)})`);
    const sha256 = await sha256File(path, {
      signal: ctx.signal,
      onBytes: (read) => ctx.progress(bytes === 0 ? 100 : (read / bytes) * 100),
    });
    ctx.log.info(`sha256 ${sha256}  ${id}`);
    const recorded = await readSidecar(path);
    let sidecar: ChecksumResult['sidecar'] = 'none';
    if (recorded === undefined && this.input.writeSidecar) {
      await writeSidecar(path, sha256);
      ctx.log.info(`Recorded the checksum in ${sidecarPath(id)}`);
      sidecar = 'written';
    } else if (recorded !== undefined) {
      sidecar = recorded === sha256 ? 'matched' : 'mismatch';
      if (sidecar === 'mismatch') {
        ctx.log.error(`The recorded checksum ${recorded} differs: the file changed or is damaged.`);
      } else ctx.log.info('The recorded checksum matches.');
    }
    ctx.progress(100);
    return { file: id, bytes, sha256, sidecar };
  }
}

/** The sha256 of one media file, compared with (or recorded as) its .sha256 sidecar. */
export class FileChecksumPlugin extends ActionMediaFilePlugin({
  id: 'file-checksum',
  name: 'Checksum a media file',
  description: 'Computes the sha256 of one media file and checks it against its .sha256 file.',
  category: 'Media files',
  sortOrder: 1,
  permissions: [READ_MEDIA],
  args: ChecksumArgs,
  tasks: [ChecksumTask],
}) {
  createTasks(args: ChecksumArgs, file: MediaFile) {
    return new ChecksumTask({ id: file.id, path: file.path, writeSidecar: args.writeSidecar });
  }
}
