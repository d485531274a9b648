// The floor of the SQLite store: the statements it runs per task, and nothing else. On a database the store itself
// created (same schema, indexes and pragmas), holding `retained` finished tasks, each task is one INSERT as queued,
// one UPDATE to its end that also retires it, and the eviction of the oldest finished task, in IMMEDIATE
// transactions of `perCommit` tasks: no records, promises or events. What this costs per task is what SQLite
// itself adds to a host's path, whatever the code around it does.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

const COLUMNS = [
  'id',
  'plugin_id',
  'task_type',
  'user_id',
  'state',
  'input',
  'user',
  'progress',
  'progress_message',
  'status_text',
  'created_at',
  'started_at',
  'finished_at',
  'result',
  'error',
  'attempt',
  'max_attempts',
  'priority',
  'timeout_ms',
  'schedule_id',
  'context_id',
  'log_count',
  'retired_at',
  'retired_seq',
];

/**
 * Runs `count` tasks' statements on a fresh store file in `dir` made by `makeStore(path)`; resolves with tasks per
 * second.
 */
export async function sqliteFloorRate({ dir, makeStore, count, retained, perCommit = 30, createTaskId }) {
  const path = join(dir, `floor-${process.hrtime.bigint()}.db`);
  const store = makeStore(path);
  await store.open();
  await store.close();
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const insert = db.prepare(
    `INSERT INTO tasks (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (id) DO NOTHING`,
  );
  const end = db.prepare(
    `UPDATE tasks SET state = ?, started_at = ?, finished_at = ?, result = ?, error = ?, progress = ?, log_count = max(log_count, ?),
       retired_at = ?, retired_seq = coalesce(retired_seq, ?) WHERE id = ? RETURNING retired_seq`,
  );
  const evict = db.prepare(
    'DELETE FROM tasks WHERE id IN (SELECT id FROM tasks WHERE retired_seq IS NOT NULL ORDER BY retired_seq LIMIT ?)',
  );
  let seq = 0;
  const row = (id, now, finished) => [
    id,
    'noop',
    'noop/NoopTask',
    'bench',
    finished ? 'succeeded' : 'queued',
    '{"label":"run"}',
    '{"id":"bench","permissions":[]}',
    0,
    null,
    null,
    now,
    null,
    null,
    null,
    'null',
    1,
    1,
    0,
    null,
    null,
    null,
    0,
    finished ? now : null,
    finished ? ++seq : null,
  ];
  const start = Date.now() - retained;
  db.transaction(() => {
    for (let i = 0; i < retained; i++) insert.run(...row(createTaskId(start + i), start + i, true));
  }).immediate();
  const t0 = performance.now();
  let previous = [];
  for (let done = 0; done < count; done += perCommit) {
    // One commit: the inserts of this batch, the ends of the previous one and their evictions, as a turn of a
    // busy host writes them.
    const now = Date.now();
    const batch = Array.from({ length: Math.min(perCommit, count - done) }, () => createTaskId(now));
    const ending = previous;
    db.transaction(() => {
      for (const id of batch) insert.run(...row(id, now, false));
      for (const id of ending) end.get('succeeded', now, now, 'null', 'null', 100, 0, now, ++seq, id);
      if (ending.length > 0) evict.run(ending.length);
    }).immediate();
    previous = batch;
  }
  db.transaction(() => {
    const now = Date.now();
    for (const id of previous) end.get('succeeded', now, now, 'null', 'null', 100, 0, now, ++seq, id);
    evict.run(previous.length);
  }).immediate();
  const rate = (count / (performance.now() - t0)) * 1000;
  db.close();
  rmSync(path, { force: true });
  rmSync(`${path}-wal`, { force: true });
  rmSync(`${path}-shm`, { force: true });
  return rate;
}
