import type { PluginRegistry } from '../plugins/registry.js';
import type { TaskStore } from '../store/store.js';
import type { TaskRecord } from '../task.js';
import { orphanPatch, PARENT_STOPPED_STATES } from './child-tasks.js';
import type { TaskRuntime } from './runtime.js';
import type { TaskFactory } from './task-factory.js';
import { recoverCrashed } from './task-life.js';

/** What crash recovery found in the store. */
export interface RecoveryCounts {
  /** Tasks a previous process left running, now recorded `interrupted`. */
  readonly interrupted: number;
  /** Tasks a previous process left running whose type is retry-safe, queued again for another attempt. */
  readonly requeued: number;
  /** Tasks a previous process left queued, handed to the runtime again. */
  readonly resumed: number;
  /** Unfinished children whose parent was running when the process died (or had been stopped): cancelled. */
  readonly orphaned?: number;
}

/** What crash recovery works with. */
export interface CrashRecoveryOptions {
  readonly store: TaskStore;
  readonly runtime: TaskRuntime;
  readonly registry: PluginRegistry;
  readonly tasks: TaskFactory;
  readonly now: number;
}

/** The last log line stored for the task: lines may have reached the store after the record's last update. */
async function lastLogSeq(store: TaskStore, record: TaskRecord): Promise<number> {
  let last = record.logCount;
  for (;;) {
    const page = await store.getLogs(record.id, { after: last, limit: 1000 });
    const tail = page.at(-1);
    if (!tail) return last;
    last = tail.seq;
  }
}

/** True when a child's parent died running with the last process, or was stopped and left it unfinished. */
async function isOrphan(store: TaskStore, parentId: string, stopped: ReadonlySet<string>): Promise<boolean> {
  if (stopped.has(parentId)) return true;
  const parent = await store.getTask(parentId);
  return parent !== undefined && PARENT_STOPPED_STATES.has(parent.state);
}

/**
 * Tasks a previous process left `running` are marked `interrupted` (or queued again by the crash rule when their
 * type is `retrySafe`); tasks it left `queued` are handed to the runtime again.
 */
export async function recoverUnfinishedTasks(options: CrashRecoveryOptions): Promise<RecoveryCounts> {
  const { store, runtime, registry, tasks, now } = options;
  const counts = { interrupted: 0, requeued: 0, resumed: 0, orphaned: 0 };
  // Parents whose attempt died with the process: a rerun starts its children anew, so the old ones are orphans.
  const stopped = new Set<string>();
  for (const record of await store.listUnfinishedTasks()) {
    if (record.parentId && (await isOrphan(store, record.parentId, stopped))) {
      await store.updateTask(record.id, orphanPatch(record.parentId, now));
      stopped.add(record.id);
      counts.orphaned++;
      continue;
    }
    const taskClass = tasks.findTaskClass(record);
    const operational = registry.get(record.pluginId)?.info.status === 'operational';
    if (record.state === 'running') {
      stopped.add(record.id);
      const verdict = recoverCrashed(record, {
        retrySafe: Boolean(taskClass?.retrySafe) && operational,
        runner: 'process',
        now,
        lastLogSeq: await lastLogSeq(store, record),
      });
      await store.appendLogs(record.id, [verdict.log]);
      await store.updateTask(record.id, verdict.patch);
      if (verdict.rerun) {
        await runtime.enqueue(verdict.record);
        counts.requeued++;
      } else {
        counts.interrupted++;
      }
    } else if (record.state === 'queued' && operational && taskClass) {
      await runtime.enqueue(record);
      counts.resumed++;
    }
  }
  const { orphaned, ...rest } = counts;
  return orphaned > 0 ? counts : rest;
}
