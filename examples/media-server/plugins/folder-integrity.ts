import { access, unlink } from 'node:fs/promises';
import { type Static, Task, type TaskContext, Type } from '@plugboard/core';
import {
  isMediaFile,
  PARTIAL_EXTENSION,
  readSidecar,
  SIDECAR_EXTENSION,
  sha256File,
  walkFiles,
  writeSidecar,
} from '../src/media-files.ts';
import { ActionMediaFolderPlugin, type MediaFolder } from '../src/plugin-classes.ts';
import { WRITE_MEDIA } from '../src/users.ts';

const IntegrityArgs = Type.Object({
  mode: Type.Union([Type.Literal('check'), Type.Literal('fix')], {
    default: 'check',
    description: 'check only reports; fix also records missing checksums and removes leftovers',
  }),
});
type IntegrityArgs = Static<typeof IntegrityArgs>;

/** A problem the check can find. Mismatches and empty files need a person; the others can be fixed. */
export type IntegrityProblem =
  | 'missing-checksum'
  | 'checksum-mismatch'
  | 'orphan-checksum'
  | 'partial-file'
  | 'empty-file';

/** One problem with one file (its path relative to the folder). */
export interface IntegrityIssue {
  readonly file: string;
  readonly problem: IntegrityProblem;
  readonly fixed: boolean;
}

/** What the check found. */
export interface IntegrityReport {
  readonly folder: string;
  readonly mode: IntegrityArgs['mode'];
  readonly mediaFiles: number;
  readonly issues: IntegrityIssue[];
}

const FIXABLE = new Set<IntegrityProblem>(['missing-checksum', 'orphan-checksum', 'partial-file']);

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

class IntegrityTask extends Task<{ id: string; path: string; mode: IntegrityArgs['mode'] }, IntegrityReport> {
  async run(ctx: TaskContext): Promise<IntegrityReport> {
    const { id, path, mode } = this.input;
    const files = [];
    for await (const file of walkFiles(path, ctx.signal)) files.push(file);
    const issues: IntegrityIssue[] = [];
    let mediaFiles = 0;
    for (const [index, file] of files.entries()) {
      ctx.signal.throwIfAborted();
      ctx.status(`Checking ${file.relative}`);
      const found = async (problem: IntegrityProblem, fix: () => Promise<void>) => {
        const fixing = mode === 'fix' && FIXABLE.has(problem);
        if (fixing) await fix();
        issues.push({ file: file.relative, problem, fixed: fixing });
        const line = `${file.relative}: ${problem}${fixing ? ' (fixed)' : ''}`;
        if (problem === 'checksum-mismatch' || problem === 'empty-file') ctx.log.error(line);
        else ctx.log.warn(line);
      };
      if (file.relative.endsWith(PARTIAL_EXTENSION)) {
        await found('partial-file', () => unlink(file.path));
      } else if (file.relative.endsWith(SIDECAR_EXTENSION)) {
        const media = file.path.slice(0, -SIDECAR_EXTENSION.length);
        if (!(await exists(media))) await found('orphan-checksum', () => unlink(file.path));
      } else if (isMediaFile(file.relative)) {
        mediaFiles++;
        if (file.size === 0) {
          await found('empty-file', async () => {});
        } else {
          const recorded = await readSidecar(file.path);
          const actual = await sha256File(file.path, { signal: ctx.signal });
          if (recorded === undefined) await found('missing-checksum', () => writeSidecar(file.path, actual));
          else if (recorded !== actual) await found('checksum-mismatch', async () => {});
        }
      }
      ctx.progress(((index + 1) / files.length) * 100);
    }
    const open = issues.filter((issue) => !issue.fixed);
    ctx.log.info(
      `${mediaFiles} media files in ${id}: ${issues.length} problem(s), ${issues.length - open.length} fixed.`,
    );
    ctx.status(issues.length === 0 ? 'No problems' : `${issues.length} problem(s), ${open.length} open`);
    if (mode === 'fix' && open.length > 0) {
      ctx.fail(
        `${open.length} problem(s) in ${id} need a person: ${open.map((i) => `${i.file} (${i.problem})`).join(', ')}.`,
        { retryable: false },
      );
    }
    return { folder: id, mode, mediaFiles, issues };
  }
}

/** Checks that every media file in a folder matches its recorded checksum, and optionally repairs the folder. */
export class FolderIntegrityPlugin extends ActionMediaFolderPlugin({
  id: 'folder-integrity',
  name: 'Check a folder’s integrity',
  description:
    'Verifies every media file against its .sha256 file; finds missing checksums, stale checksums, partial and empty files.',
  category: 'Media folders',
  sortOrder: 1,
  permissions: [WRITE_MEDIA],
  args: IntegrityArgs,
  tasks: [IntegrityTask],
}) {
  createTasks(args: IntegrityArgs, folder: MediaFolder) {
    return new IntegrityTask({ id: folder.id, path: folder.path, mode: args.mode });
  }
}
