import { type Static, Task, type TaskContext, Type } from '@plugboard/core';
import { formatBytes, walkFiles } from '../src/media-files.ts';
import { ActionMediaPlugin, MEDIA_ROOTS, type MediaFolders, type MediaRoot } from '../src/plugin-classes.ts';
import { READ_MEDIA } from '../src/users.ts';

const ReportArgs = Type.Object({
  groupBy: Type.Union([Type.Literal('folder'), Type.Literal('extension')], {
    default: 'folder',
    description: 'Total the files per top-level folder or per file extension',
  }),
});
type ReportArgs = Static<typeof ReportArgs>;

/** Files and bytes of one group or root. */
interface Totals {
  files: number;
  bytes: number;
}

/** What a storage report returns. */
export interface StorageReport {
  readonly groupBy: ReportArgs['groupBy'];
  readonly files: number;
  readonly bytes: number;
  readonly roots: Record<MediaRoot, Totals>;
  /** Groups, largest first: `primary/Films` or `.mkv`. */
  readonly groups: { key: string; files: number; bytes: number }[];
}

class StorageReportTask extends Task<
  { folders: MediaFolders; groupBy: ReportArgs['groupBy'] },
  StorageReport
> {
  async run(ctx: TaskContext): Promise<StorageReport> {
    const roots = {} as Record<MediaRoot, Totals>;
    const groups = new Map<string, Totals>();
    for (const [index, root] of MEDIA_ROOTS.entries()) {
      ctx.status(`Reading the ${root} folder`);
      const totals: Totals = { files: 0, bytes: 0 };
      for await (const file of walkFiles(this.input.folders[root], ctx.signal)) {
        totals.files++;
        totals.bytes += file.size;
        const key =
          this.input.groupBy === 'folder'
            ? `${root}/${file.relative.includes('/') ? file.relative.split('/')[0] : '.'}`
            : (/\.[^./]+$/.exec(file.relative)?.[0]?.toLowerCase() ?? '(none)');
        const group = groups.get(key) ?? { files: 0, bytes: 0 };
        group.files++;
        group.bytes += file.size;
        groups.set(key, group);
      }
      roots[root] = totals;
      ctx.log.info(`${root}: ${totals.files} files, ${formatBytes(totals.bytes)}`);
      ctx.progress(((index + 1) / MEDIA_ROOTS.length) * 100);
    }
    const files = MEDIA_ROOTS.reduce((sum, root) => sum + roots[root].files, 0);
    const bytes = MEDIA_ROOTS.reduce((sum, root) => sum + roots[root].bytes, 0);
    ctx.status(`${files} files, ${formatBytes(bytes)}`);
    return {
      groupBy: this.input.groupBy,
      files,
      bytes,
      roots,
      groups: [...groups]
        .map(([key, totals]) => ({ key, ...totals }))
        .sort((a, b) => b.bytes - a.bytes || a.key.localeCompare(b.key)),
    };
  }
}

/** How much the library stores, per media folder and per folder or extension. */
export class StorageReportPlugin extends ActionMediaPlugin({
  id: 'storage-report',
  name: 'Storage report',
  description: 'Counts the files and bytes in the primary, alternative and temp media folders.',
  category: 'Reports',
  sortOrder: 1,
  permissions: [READ_MEDIA],
  args: ReportArgs,
  tasks: [StorageReportTask],
}) {
  createTasks(args: ReportArgs) {
    return new StorageReportTask({ folders: this.mediaFolders, groupBy: args.groupBy });
  }
}
