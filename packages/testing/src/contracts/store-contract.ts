import type { ScheduleRecord, TaskLogEntry, TaskRecord, TaskState, TaskStore } from '@plugboard/core';
import { createTaskId, type PluginCatalogueEntry } from '@plugboard/core/spi';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeIdempotencyKeyContract } from './idempotency-contract.js';

/** Retention limits the contract suite sets on a store it asks for. */
export interface ContractRetention {
  /** Finished tasks kept. */
  readonly maxFinishedTasks?: number;
  /** Finished tasks older than this (ms since they finished) are evicted. */
  readonly maxFinishedAgeMs?: number;
  /** Log lines kept per task. */
  readonly maxLogEntriesPerTask?: number;
  /** The clock retention reads. */
  readonly now?: () => number;
}

/** Options of {@link describeTaskStoreContract}. */
export interface TaskStoreContractOptions {
  /**
   * Creates a store with the given retention limits (same options as `memoryStore`). Without it, the retention
   * tests are left out.
   */
  readonly createWithRetention?: (retention: ContractRetention) => Promise<TaskStore> | TaskStore;
  /**
   * Whether the store keeps idempotency keys (`claimIdempotencyKey` and `settleIdempotencyKey`); `false` leaves
   * their tests out, for a store whose hosts execute without keys.
   * @default true
   */
  readonly idempotencyKeys?: boolean;
}

type Store = TaskStore;

let clock = Date.parse('2030-01-01T00:00:00Z');

/** A complete task record with fresh, creation-ordered ids; later calls are newer. */
export function taskRecord(overrides: Partial<TaskRecord> = {}): TaskRecord {
  clock += 1000;
  const pluginId = overrides.pluginId ?? 'greet';
  return {
    id: createTaskId(clock),
    pluginId,
    taskType: `${pluginId}/GreetTask`,
    input: { name: 'Ada', times: 2, tags: ['a', 'b'], nested: { deep: [1, { x: null }] } },
    user: { id: 'alice', name: 'Alice', permissions: ['greet'] },
    state: 'queued',
    progress: 0,
    progressMessage: null,
    statusText: null,
    createdAt: clock,
    startedAt: null,
    finishedAt: null,
    result: null,
    error: null,
    attempt: 1,
    maxAttempts: 1,
    priority: 0,
    timeoutMs: null,
    scheduleId: null,
    contextId: null,
    logCount: 0,
    ...overrides,
  };
}

function logLines(from: number, to: number, time = 1_000): TaskLogEntry[] {
  const lines: TaskLogEntry[] = [];
  for (let seq = from; seq <= to; seq++) {
    lines.push({ seq, time: time + seq, level: seq % 5 === 0 ? 'warn' : 'info', message: `line ${seq}` });
  }
  return lines;
}

function schedule(overrides: Partial<ScheduleRecord> = {}): ScheduleRecord {
  return {
    id: 'nightly',
    pluginId: 'nightly',
    delaySeconds: 30,
    repeatSeconds: 3600,
    nextRunAt: 1_900_000_000_000,
    lastRunAt: null,
    lastTaskIds: [],
    lastState: null,
    runs: 0,
    createdAt: 1_800_000_000_000,
    updatedAt: 1_800_000_000_000,
    ...overrides,
  };
}

function pluginEntry(overrides: Partial<PluginCatalogueEntry> = {}): PluginCatalogueEntry {
  return {
    id: 'greet',
    enabled: true,
    lastStatus: 'operational',
    lastReason: null,
    firstSeenAt: 1_800_000_000_000,
    lastSeenAt: 1_800_000_100_000,
    ...overrides,
  };
}

async function insertAll(store: Store, records: readonly TaskRecord[]): Promise<void> {
  for (const record of records) await store.insertTask(record);
}

async function allPages(store: Store, query: Parameters<Store['listTasks']>[0]): Promise<TaskRecord[][]> {
  const pages: TaskRecord[][] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 100; i++) {
    const page = await store.listTasks({ ...query, cursor });
    pages.push([...page.items]);
    if (page.nextCursor === null) return pages;
    cursor = page.nextCursor;
  }
  throw new Error('listTasks never returned a last page');
}

const ids = (records: readonly TaskRecord[]) => records.map((r) => r.id);
const newestFirst = (records: readonly TaskRecord[]) => [...records].reverse();

/**
 * The behaviour every {@link TaskStore} shares, so a host can swap one store for another. Call it from a store's
 * own test file: `describeTaskStoreContract('memory', () => memoryStore())`. Each test gets a fresh store from
 * `createStore`, opens it and closes it afterwards.
 */
export function describeTaskStoreContract(
  name: string,
  createStore: () => Promise<TaskStore> | TaskStore,
  options: TaskStoreContractOptions = {},
): void {
  describe(`TaskStore contract: ${name}`, () => {
    let store: Store;
    const opened: Store[] = [];

    async function fresh(make: () => Promise<Store> | Store = createStore): Promise<Store> {
      const created = await make();
      await created.open();
      opened.push(created);
      return created;
    }

    beforeEach(async () => {
      store = await fresh();
    });

    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
    });

    it('has a short name for reports', () => {
      expect(typeof store.name).toBe('string');
      expect(store.name.length).toBeGreaterThan(0);
    });

    describe('task records', () => {
      it('a stored record reads back equal, every field kept', async () => {
        const record = taskRecord({
          user: { id: 'bob', name: 'Bob', permissions: ['a', 'b'] },
          state: 'succeeded',
          progress: 100,
          progressMessage: 'done',
          statusText: 'all good',
          startedAt: 10,
          finishedAt: 20,
          result: { greeting: 'Hello Ada', count: 2, list: [true, false, null] },
          error: null,
          attempt: 2,
          maxAttempts: 3,
          priority: -5,
          timeoutMs: 1500,
          scheduleId: 'nightly',
          contextId: 'book-42',
          logCount: 7,
        });
        await store.insertTask(record);
        expect(await store.getTask(record.id)).toEqual(record);
      });

      it('a failed record keeps its error code, message and stack', async () => {
        const error = { code: 'PLUGBOARD_TASK_FAILED', message: 'boom', stack: 'Error: boom\n    at run' };
        const record = taskRecord({ state: 'failed', error, finishedAt: 5 });
        await store.insertTask(record);
        expect((await store.getTask(record.id))?.error).toEqual(error);
      });

      it('inputs and results of every JSON shape read back equal', async () => {
        const shapes: unknown[] = [
          null,
          0,
          -1.5,
          'text with "quotes" and ünïcode ✓',
          true,
          [],
          {},
          [1, [2, [3]]],
        ];
        const records = shapes.map((value) => taskRecord({ input: value, result: value }));
        await insertAll(store, records);
        for (const record of records) {
          const read = await store.getTask(record.id);
          expect(read?.input).toEqual(record.input);
          expect(read?.result).toEqual(record.result);
        }
      });

      it('a record without a result reads back without one', async () => {
        const { result: _omitted, ...withoutResult } = taskRecord();
        await store.insertTask(withoutResult as TaskRecord);
        expect((await store.getTask(withoutResult.id))?.result).toBeUndefined();
      });

      it('an unknown id reads as undefined', async () => {
        expect(await store.getTask('0000000000000zzzzzzzz')).toBeUndefined();
      });

      it('updateTask merges the patch and keeps every other field', async () => {
        const record = taskRecord();
        await store.insertTask(record);
        await store.updateTask(record.id, { state: 'running', startedAt: 123, progress: 40 });
        await store.updateTask(record.id, { progressMessage: 'halfway', statusText: 'working' });
        expect(await store.getTask(record.id)).toEqual({
          ...record,
          state: 'running',
          startedAt: 123,
          progress: 40,
          progressMessage: 'halfway',
          statusText: 'working',
        });
      });

      it('updateTask records a final outcome with its result and error', async () => {
        const record = taskRecord();
        await store.insertTask(record);
        await store.updateTask(record.id, {
          state: 'failed',
          finishedAt: 99,
          result: null,
          error: { code: 'PLUGBOARD_TASK_TIMED_OUT', message: 'too slow' },
          logCount: 3,
        });
        const read = await store.getTask(record.id);
        expect(read).toMatchObject({
          state: 'failed',
          finishedAt: 99,
          result: null,
          error: { code: 'PLUGBOARD_TASK_TIMED_OUT', message: 'too slow' },
          logCount: 3,
        });
      });

      it('updateTask never changes the id, even when the patch names another', async () => {
        const record = taskRecord();
        await store.insertTask(record);
        await store.updateTask(record.id, { id: 'other', progress: 5 } as Partial<TaskRecord>);
        expect((await store.getTask(record.id))?.progress).toBe(5);
        expect(await store.getTask('other')).toBeUndefined();
      });

      it('updateTask of an unknown id is ignored and creates nothing', async () => {
        await store.updateTask('0000000000000zzzzzzzz', { state: 'running' });
        expect(await store.getTask('0000000000000zzzzzzzz')).toBeUndefined();
        expect((await store.listTasks({})).items).toEqual([]);
      });

      it('inserting a known id again replaces the record', async () => {
        const record = taskRecord();
        await store.insertTask(record);
        const replaced = { ...record, state: 'running' as const, progress: 10 };
        await store.insertTask(replaced);
        expect(await store.getTask(record.id)).toEqual(replaced);
        expect((await store.listTasks({})).items).toHaveLength(1);
      });

      it('a read right after writes that were not awaited sees them', async () => {
        const record = taskRecord();
        void store.insertTask(record);
        void store.updateTask(record.id, { state: 'running', progress: 12 });
        expect(await store.getTask(record.id)).toMatchObject({ state: 'running', progress: 12 });
      });
    });

    describe('listing tasks', () => {
      it('lists newest first', async () => {
        const records = [taskRecord(), taskRecord(), taskRecord()];
        await insertAll(store, records);
        const page = await store.listTasks({});
        expect(ids(page.items)).toEqual(ids(newestFirst(records)));
        expect(page.nextCursor).toBeNull();
      });

      it('an empty store lists an empty last page', async () => {
        expect(await store.listTasks({})).toEqual({ items: [], nextCursor: null });
      });

      it('filters by user', async () => {
        const records = [
          taskRecord({ user: { id: 'alice' } }),
          taskRecord({ user: { id: 'bob' } }),
          taskRecord({ user: { id: 'alice', name: 'A' } }),
        ];
        await insertAll(store, records);
        expect(ids((await store.listTasks({ user: 'alice' })).items)).toEqual([
          records[2]!.id,
          records[0]!.id,
        ]);
        expect(ids((await store.listTasks({ user: 'bob' })).items)).toEqual([records[1]!.id]);
        expect((await store.listTasks({ user: 'carol' })).items).toEqual([]);
      });

      it('filters by plugin', async () => {
        const records = [
          taskRecord({ pluginId: 'greet' }),
          taskRecord({ pluginId: 'reindex' }),
          taskRecord({ pluginId: 'greet' }),
        ];
        await insertAll(store, records);
        expect(ids((await store.listTasks({ plugin: 'greet' })).items)).toEqual([
          records[2]!.id,
          records[0]!.id,
        ]);
        expect(ids((await store.listTasks({ plugin: 'reindex' })).items)).toEqual([records[1]!.id]);
      });

      it('filters by one state and by a list of states', async () => {
        const states: TaskState[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted'];
        const records = states.map((state) => taskRecord({ state }));
        await insertAll(store, records);
        const byState = (state: TaskState) => records.find((r) => r.state === state)!.id;
        expect(ids((await store.listTasks({ state: 'running' })).items)).toEqual([byState('running')]);
        expect(ids((await store.listTasks({ state: ['failed', 'queued'] })).items)).toEqual([
          byState('failed'),
          byState('queued'),
        ]);
        expect((await store.listTasks({ state: 'timed-out' })).items).toEqual([]);
        expect((await store.listTasks({ state: [] })).items).toEqual([]);
      });

      it('lists a task under the state it was last updated to', async () => {
        const record = taskRecord();
        await store.insertTask(record);
        await store.updateTask(record.id, { state: 'succeeded', finishedAt: 1 });
        expect((await store.listTasks({ state: 'queued' })).items).toEqual([]);
        expect(ids((await store.listTasks({ state: 'succeeded' })).items)).toEqual([record.id]);
      });

      it('combines user, plugin and state filters', async () => {
        const match = taskRecord({ user: { id: 'alice' }, pluginId: 'greet', state: 'failed' });
        await insertAll(store, [
          taskRecord({ user: { id: 'bob' }, pluginId: 'greet', state: 'failed' }),
          match,
          taskRecord({ user: { id: 'alice' }, pluginId: 'other', state: 'failed' }),
          taskRecord({ user: { id: 'alice' }, pluginId: 'greet', state: 'succeeded' }),
        ]);
        const page = await store.listTasks({ user: 'alice', plugin: 'greet', state: ['failed', 'running'] });
        expect(ids(page.items)).toEqual([match.id]);
      });

      it('pages newest first by cursor, every task exactly once', async () => {
        const records = Array.from({ length: 7 }, () => taskRecord());
        await insertAll(store, records);
        const pages = await allPages(store, { limit: 3 });
        expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
        expect(ids(pages.flat())).toEqual(ids(newestFirst(records)));
      });

      it('a page that ends exactly at the last task has no next cursor', async () => {
        await insertAll(
          store,
          Array.from({ length: 6 }, () => taskRecord()),
        );
        const first = await store.listTasks({ limit: 3 });
        expect(first.nextCursor).not.toBeNull();
        const second = await store.listTasks({ limit: 3, cursor: first.nextCursor! });
        expect(second.items).toHaveLength(3);
        expect(second.nextCursor).toBeNull();
      });

      it('pages through a filtered list', async () => {
        const records = Array.from({ length: 12 }, (_, i) =>
          taskRecord({ user: { id: i % 3 === 0 ? 'bob' : 'alice' } }),
        );
        await insertAll(store, records);
        const pages = await allPages(store, { user: 'alice', limit: 3 });
        expect(pages.map((p) => p.length)).toEqual([3, 3, 2]);
        expect(ids(pages.flat())).toEqual(ids(newestFirst(records.filter((r) => r.user.id === 'alice'))));
      });

      it('a cursor stays valid while newer tasks are added', async () => {
        const older = Array.from({ length: 4 }, () => taskRecord());
        await insertAll(store, older);
        const first = await store.listTasks({ limit: 2 });
        await store.insertTask(taskRecord());
        const second = await store.listTasks({ limit: 2, cursor: first.nextCursor! });
        expect(ids(second.items)).toEqual([older[1]!.id, older[0]!.id]);
        expect(second.nextCursor).toBeNull();
      });

      it('the page size defaults to 50 and is capped at 500', async () => {
        await insertAll(
          store,
          Array.from({ length: 520 }, () => taskRecord()),
        );
        const standard = await store.listTasks({});
        expect(standard.items).toHaveLength(50);
        expect(standard.nextCursor).not.toBeNull();
        const capped = await store.listTasks({ limit: 10_000 });
        expect(capped.items).toHaveLength(500);
        expect(capped.nextCursor).not.toBeNull();
        const rest = await store.listTasks({ limit: 500, cursor: capped.nextCursor! });
        expect(rest.items).toHaveLength(20);
        expect(rest.nextCursor).toBeNull();
      });

      it('a malformed cursor lists from the newest task', async () => {
        const records = [taskRecord(), taskRecord()];
        await insertAll(store, records);
        const page = await store.listTasks({ cursor: '%%% not a cursor %%%' });
        expect(ids(page.items)).toEqual(ids(newestFirst(records)));
      });

      it('lists unfinished tasks (queued and running) oldest first', async () => {
        const queued = taskRecord({ state: 'queued' });
        const done = taskRecord({ state: 'succeeded', finishedAt: 1 });
        const running = taskRecord({ state: 'running', startedAt: 1 });
        const cancelled = taskRecord({ state: 'cancelled', finishedAt: 1 });
        const later = taskRecord({ state: 'queued' });
        await insertAll(store, [queued, done, running, cancelled, later]);
        await store.updateTask(later.id, { state: 'running' });
        const unfinished = await store.listUnfinishedTasks();
        expect(ids(unfinished)).toEqual([queued.id, running.id, later.id]);
        expect(unfinished[2]).toEqual({ ...later, state: 'running' });
      });

      it('keeps a child task’s parentId and lists the children of a parent, newest first, by state too', async () => {
        const parent = taskRecord({ state: 'running', startedAt: 1 });
        const first = taskRecord({ parentId: parent.id });
        const other = taskRecord({ parentId: taskRecord().id });
        const second = taskRecord({ parentId: parent.id, state: 'succeeded', finishedAt: 2 });
        await insertAll(store, [parent, first, other, second]);
        expect(await store.getTask(first.id)).toEqual(first);
        expect((await store.getTask(parent.id))?.parentId ?? null).toBeNull();
        expect(ids((await store.listTasks({ parent: parent.id })).items)).toEqual([second.id, first.id]);
        expect(ids((await store.listTasks({ parent: parent.id, state: 'queued' })).items)).toEqual([
          first.id,
        ]);
        expect((await store.listTasks({ parent: first.id })).items).toEqual([]);
        const pages = await allPages(store, { parent: parent.id, limit: 1 });
        expect(pages.flat().map((r) => r.id)).toEqual([second.id, first.id]);
      });

      it('keeps why a queued task waits until it is cleared', async () => {
        const record = taskRecord();
        await store.insertTask(record);
        await store.updateTask(record.id, { waitingReason: 'waiting for a slot of plugin greet' });
        expect((await store.getTask(record.id))?.waitingReason).toBe('waiting for a slot of plugin greet');
        await store.updateTask(record.id, { waitingReason: null, state: 'running', startedAt: 5 });
        const read = await store.getTask(record.id);
        expect(read?.waitingReason ?? null).toBeNull();
        expect(read).toMatchObject({ state: 'running', startedAt: 5 });
      });
    });

    describe('task logs', () => {
      it('keeps appended lines in order across appends', async () => {
        const record = taskRecord();
        await store.insertTask(record);
        await store.appendLogs(record.id, logLines(1, 3));
        await store.appendLogs(record.id, logLines(4, 5));
        expect(await store.getLogs(record.id)).toEqual(logLines(1, 5));
      });

      it('pages by `after` and `limit`', async () => {
        const record = taskRecord();
        await store.insertTask(record);
        await store.appendLogs(record.id, logLines(1, 20));
        expect(await store.getLogs(record.id, { after: 5, limit: 3 })).toEqual(logLines(6, 8));
        expect(await store.getLogs(record.id, { after: 18 })).toEqual(logLines(19, 20));
        expect(await store.getLogs(record.id, { after: 20 })).toEqual([]);
        expect(await store.getLogs(record.id, { limit: 2 })).toEqual(logLines(1, 2));
        expect(await store.getLogs(record.id, { limit: 0 })).toEqual([]);
      });

      it('keeps each task’s log apart', async () => {
        const a = taskRecord();
        const b = taskRecord();
        await insertAll(store, [a, b]);
        await store.appendLogs(a.id, logLines(1, 2));
        await store.appendLogs(b.id, [{ seq: 1, time: 5, level: 'error', message: 'b only' }]);
        expect(await store.getLogs(a.id)).toEqual(logLines(1, 2));
        expect(await store.getLogs(b.id)).toEqual([{ seq: 1, time: 5, level: 'error', message: 'b only' }]);
      });

      it('keeps every level and long multi-line messages as written', async () => {
        const record = taskRecord();
        await store.insertTask(record);
        const levels = ['debug', 'info', 'warn', 'error', 'critical', 'always'] as const;
        const lines = levels.map((level, i) => ({
          seq: i + 1,
          time: 100 + i,
          level,
          message: `${level}: ${'x'.repeat(i * 1000)}\nsecond line ✓`,
        }));
        await store.appendLogs(record.id, lines);
        expect(await store.getLogs(record.id)).toEqual(lines);
      });

      it('lines for an unknown task are dropped', async () => {
        await store.appendLogs('0000000000000zzzzzzzz', logLines(1, 2));
        expect(await store.getLogs('0000000000000zzzzzzzz')).toEqual([]);
      });

      it('a task without lines has an empty log', async () => {
        const record = taskRecord();
        await store.insertTask(record);
        expect(await store.getLogs(record.id)).toEqual([]);
      });

      it('lines appended without awaiting are there for the next read', async () => {
        const record = taskRecord();
        await store.insertTask(record);
        void store.appendLogs(record.id, logLines(1, 2));
        void store.appendLogs(record.id, logLines(3, 4));
        expect(await store.getLogs(record.id)).toEqual(logLines(1, 4));
      });
    });

    describe('schedules', () => {
      it('a saved schedule reads back equal', async () => {
        const saved = schedule({ lastRunAt: 5, lastTaskIds: ['a', 'b'], lastState: 'succeeded', runs: 3 });
        await store.saveSchedule(saved);
        expect(await store.getSchedule('nightly')).toEqual(saved);
      });

      it('a cron schedule reads back with its expression and time zone', async () => {
        const saved = schedule({
          delaySeconds: 0,
          repeatSeconds: 0,
          cron: '0 30 2 * * *',
          timeZone: 'Europe/Berlin',
        });
        await store.saveSchedule(saved);
        expect(await store.getSchedule('nightly')).toEqual(saved);
        expect(await store.listSchedules()).toEqual([saved]);
      });

      it('a schedule that will not run again keeps a null next run', async () => {
        const saved = schedule({ repeatSeconds: 0, nextRunAt: null });
        await store.saveSchedule(saved);
        expect(await store.getSchedule('nightly')).toEqual(saved);
      });

      it('saving a schedule again replaces it', async () => {
        await store.saveSchedule(schedule());
        const replaced = schedule({ nextRunAt: 42, runs: 1, lastTaskIds: ['x'], updatedAt: 9 });
        await store.saveSchedule(replaced);
        expect(await store.getSchedule('nightly')).toEqual(replaced);
        expect(await store.listSchedules()).toEqual([replaced]);
      });

      it('lists every schedule in the order first saved', async () => {
        const a = schedule({ id: 'a', pluginId: 'a' });
        const b = schedule({ id: 'b', pluginId: 'b', delaySeconds: 0.5 });
        const c = schedule({ id: 'c', pluginId: 'c' });
        await store.saveSchedule(a);
        await store.saveSchedule(b);
        await store.saveSchedule(c);
        await store.saveSchedule({ ...a, runs: 9 });
        expect(await store.listSchedules()).toEqual([{ ...a, runs: 9 }, b, c]);
      });

      it('a deleted schedule is gone; deleting an unknown one is a no-op', async () => {
        await store.saveSchedule(schedule({ id: 'a' }));
        await store.saveSchedule(schedule({ id: 'b' }));
        await store.deleteSchedule('a');
        await store.deleteSchedule('never-saved');
        expect(await store.getSchedule('a')).toBeUndefined();
        expect((await store.listSchedules()).map((s) => s.id)).toEqual(['b']);
      });

      it('an unknown schedule reads as undefined', async () => {
        expect(await store.getSchedule('nope')).toBeUndefined();
        expect(await store.listSchedules()).toEqual([]);
      });
    });

    if (options.idempotencyKeys !== false) describeIdempotencyKeyContract(() => store);

    describe('plugin catalogue', () => {
      it('a saved entry reads back equal', async () => {
        const entry = pluginEntry({ lastStatus: 'not-ready', lastReason: 'database down' });
        await store.savePluginEntry(entry);
        expect(await store.getPluginEntry('greet')).toEqual(entry);
      });

      it('keeps a disabled entry disabled, and an entry never checked with no status', async () => {
        const disabled = pluginEntry({ id: 'old', enabled: false, lastStatus: 'disabled' });
        const unchecked = pluginEntry({ id: 'new', lastStatus: null, lastReason: null });
        await store.savePluginEntry(disabled);
        await store.savePluginEntry(unchecked);
        expect(await store.getPluginEntry('old')).toEqual(disabled);
        expect(await store.getPluginEntry('new')).toEqual(unchecked);
      });

      it('saving an entry again replaces it; the list keeps first-seen order', async () => {
        await store.savePluginEntry(pluginEntry({ id: 'a' }));
        await store.savePluginEntry(pluginEntry({ id: 'b' }));
        const updated = pluginEntry({ id: 'a', enabled: false, lastStatus: 'disabled', lastSeenAt: 7 });
        await store.savePluginEntry(updated);
        expect(await store.listPluginEntries()).toEqual([updated, pluginEntry({ id: 'b' })]);
      });

      it('an unknown plugin reads as undefined', async () => {
        expect(await store.getPluginEntry('nope')).toBeUndefined();
        expect(await store.listPluginEntries()).toEqual([]);
      });
    });

    const { createWithRetention } = options;
    if (createWithRetention) {
      describe('retention', () => {
        it('keeps at most maxFinishedTasks finished tasks, evicting the earliest finished with its log', async () => {
          const small = await fresh(() => createWithRetention({ maxFinishedTasks: 2 }));
          const [a, b, c] = [taskRecord(), taskRecord(), taskRecord()];
          await insertAll(small, [a, b, c]);
          await small.appendLogs(b.id, logLines(1, 3));
          // Finish order b, a, c: b is evicted first even though a is older.
          await small.updateTask(b.id, { state: 'succeeded', finishedAt: 1 });
          await small.updateTask(a.id, { state: 'failed', finishedAt: 2 });
          expect(await small.getTask(b.id)).toBeDefined();
          await small.updateTask(c.id, { state: 'cancelled', finishedAt: 3 });
          expect(await small.getTask(b.id)).toBeUndefined();
          expect(await small.getLogs(b.id)).toEqual([]);
          expect(ids((await small.listTasks({})).items)).toEqual([c.id, a.id]);
        });

        it('never evicts unfinished tasks, however many there are', async () => {
          const small = await fresh(() => createWithRetention({ maxFinishedTasks: 1 }));
          const queued = Array.from({ length: 5 }, () => taskRecord());
          await insertAll(small, queued);
          await insertAll(small, [
            taskRecord({ state: 'succeeded', finishedAt: 1 }),
            taskRecord({ state: 'succeeded', finishedAt: 2 }),
          ]);
          expect((await small.listTasks({})).items).toHaveLength(6);
          expect(await small.listUnfinishedTasks()).toHaveLength(5);
        });

        it('a finished task sent back to the queue (a retry) is no longer counted as finished', async () => {
          const small = await fresh(() => createWithRetention({ maxFinishedTasks: 1 }));
          const retried = taskRecord();
          const other = taskRecord();
          await insertAll(small, [retried, other]);
          await small.updateTask(retried.id, { state: 'failed', finishedAt: 1 });
          await small.updateTask(retried.id, { state: 'queued', finishedAt: null, attempt: 2 });
          await small.updateTask(other.id, { state: 'succeeded', finishedAt: 2 });
          expect(await small.getTask(retried.id)).toMatchObject({ state: 'queued', attempt: 2 });
          expect(await small.getTask(other.id)).toBeDefined();
        });

        it('a retried task that finishes again is evicted in the order of its last finish', async () => {
          const small = await fresh(() => createWithRetention({ maxFinishedTasks: 2 }));
          const [retried, b, c] = [taskRecord(), taskRecord(), taskRecord()];
          await insertAll(small, [retried, b, c]);
          await small.updateTask(retried.id, { state: 'failed', finishedAt: 1 });
          await small.updateTask(retried.id, { state: 'queued', finishedAt: null, attempt: 2 });
          await small.updateTask(b.id, { state: 'succeeded', finishedAt: 2 });
          await small.updateTask(retried.id, { state: 'succeeded', finishedAt: 3 });
          await small.updateTask(c.id, { state: 'succeeded', finishedAt: 4 });
          // b finished before the retried task's second finish: b goes first.
          expect(await small.getTask(b.id)).toBeUndefined();
          expect(ids((await small.listTasks({})).items).sort()).toEqual([retried.id, c.id].sort());
        });

        it('keeps exactly the newest maxFinishedTasks through thousands of finishes and retries', async () => {
          const small = await fresh(() => createWithRetention({ maxFinishedTasks: 50 }));
          const records = Array.from({ length: 3000 }, () => taskRecord());
          await insertAll(small, records);
          for (const [i, record] of records.entries()) {
            if (i % 7 === 0) {
              await small.updateTask(record.id, { state: 'failed', finishedAt: i });
              await small.updateTask(record.id, { state: 'queued', finishedAt: null, attempt: 2 });
            }
            await small.updateTask(record.id, { state: 'succeeded', finishedAt: i });
          }
          const kept = await small.listTasks({ limit: 500 });
          expect(ids(kept.items)).toEqual(ids(records.slice(-50)).reverse());
        });

        it('evicts finished tasks older than maxFinishedAgeMs, counted from when they finished', async () => {
          let now = 1_000_000;
          const aging = await fresh(() => createWithRetention({ maxFinishedAgeMs: 60_000, now: () => now }));
          const early = taskRecord();
          const late = taskRecord();
          const running = taskRecord({ state: 'running' });
          await insertAll(aging, [early, late, running]);
          await aging.appendLogs(early.id, logLines(1, 2));
          await aging.updateTask(early.id, { state: 'succeeded', finishedAt: now });
          now += 30_000;
          await aging.updateTask(late.id, { state: 'failed', finishedAt: now });
          now += 29_999;
          expect(await aging.getTask(early.id)).toBeDefined();
          now += 1;
          expect(await aging.getTask(early.id)).toBeUndefined();
          expect(await aging.getLogs(early.id)).toEqual([]);
          expect(ids((await aging.listTasks({})).items)).toEqual([running.id, late.id]);
          now += 10 * 60_000;
          expect(ids((await aging.listTasks({})).items)).toEqual([running.id]);
          expect(await aging.getTask(running.id)).toBeDefined();
        });

        it('keeps the newest maxLogEntriesPerTask lines of a task, their seq numbers unchanged', async () => {
          const short = await fresh(() => createWithRetention({ maxLogEntriesPerTask: 5 }));
          const record = taskRecord();
          await short.insertTask(record);
          await short.appendLogs(record.id, logLines(1, 4));
          await short.appendLogs(record.id, logLines(5, 12));
          expect(await short.getLogs(record.id)).toEqual(logLines(8, 12));
          expect(await short.getLogs(record.id, { after: 3, limit: 2 })).toEqual(logLines(8, 9));
        });

        it('rejects retention limits that are not integers >= 1 when the store is built', async () => {
          for (const retention of [
            { maxFinishedTasks: 0 },
            { maxFinishedAgeMs: -1 },
            { maxLogEntriesPerTask: 1.5 },
          ]) {
            await expect(async () => createWithRetention(retention)).rejects.toMatchObject({
              code: 'PLUGBOARD_INVALID_OPTION',
              message: expect.stringMatching(
                /^Expected `\w+` to be an integer >= 1, got `[^`]+` \(number\)\.$/,
              ),
            });
          }
        });
      });
    }
  });
}
