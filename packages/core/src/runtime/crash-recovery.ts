import type { PluginRegistry } from '../plugins/registry.js';
import type { TaskStore } from '../store/store.js';
import type { TaskRecord } from '../task.js';
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

/**
 * Tasks a previous process left `running` are marked `interrupted` (or queued again by the crash rule when their
 * type is `retrySafe`); tasks it left `queued` are handed to the runtime again.
 */
export async function recoverUnfinishedTasks(options: CrashRecoveryOptions): Promise<RecoveryCounts> {
  const { store, runtime, registry, tasks, now } = options;
  const counts = { interrupted: 0, requeued: 0, resumed: 0 };
  for (const record of await store.listUnfinishedTasks()) {
    const taskClass = tasks.findTaskClass(record);
    const operational = registry.get(record.pluginId)?.info.status === 'operational';
    if (record.state === 'running') {
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
  return counts;
}
