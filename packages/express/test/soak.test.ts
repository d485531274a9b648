import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  ActionPlugin,
  createHost,
  type Host,
  isFinalState,
  type PlugboardUser,
  Task,
  type TaskContext,
  Type,
} from '@plugboard/core';
import { plugboardRouter } from '@plugboard/express';
import { sqliteStore } from '@plugboard/sqlite';
import Database from 'better-sqlite3';
import express from 'express';
import { afterAll, describe, expect, it } from 'vitest';

// Load and soak, bounded and on loopback only: thousands of tasks queued through the HTTP API (and some through
// host.execute) on the SQLite store, with 100 event-stream clients connected, a few of which stop reading for a
// while. It checks that the server's memory stays flat, every task reaches a final state, every stream receives
// exactly the `task:finished` events its user is entitled to (none missed, none twice, none of another user) and
// nothing is missing from the store.
//
// The tasks are queued at a steady rate over PLUGBOARD_SOAK_SECONDS (default 60); PLUGBOARD_SOAK_TASKS (default
// 10000) sets how many. Raise both to soak longer.

const TASKS = Number(process.env.PLUGBOARD_SOAK_TASKS ?? 10_000);
const SECONDS = Number(process.env.PLUGBOARD_SOAK_SECONDS ?? 60);
/** Every tenth task is queued through host.execute rather than HTTP. */
const DIRECT_SHARE = 0.1;
const USERS = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8'];
const ADMIN = 'admin';
const CLIENTS_PER_USER = 12;
const ADMIN_CLIENTS = 4;
/**
 * Events kept for resuming streams. A stalled stream is dropped once more than 1 MiB waits for it and resumes from
 * this buffer when it reconnects, so the buffer must hold every event sent while the stream was stalled. With the
 * default (1000 events, about 250 of these tasks) the stalled administrator stream below is told to resync instead.
 */
const EVENT_BUFFER = 20_000;
/** Heap growth after warm-up that counts as flat, in bytes. */
const FLAT_HEAP_BYTES = 8 * 1024 * 1024;

const root = fileURLToPath(new URL('../../../', import.meta.url));
const clientScript = fileURLToPath(new URL('./fixtures/soak-clients.mjs', import.meta.url));
const dir = `${root}.tmp/tests/soak-${randomUUID()}`;

// The measured process is this one: expose a garbage collector so heap samples mean live memory only.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

class TickTask extends Task<{ n: number }, number> {
  async run(ctx: TaskContext) {
    ctx.log.info(`tick ${this.input.n}`);
    return this.input.n;
  }
}

/** A task that logs one line and returns at once: what the load is made of. */
class TickPlugin extends ActionPlugin({
  id: 'tick',
  name: 'Tick',
  args: Type.Object({ n: Type.Integer({ minimum: 0 }) }),
  tasks: [TickTask],
}) {
  createTasks(args: { n: number }) {
    return new TickTask({ n: args.n });
  }
}

const people: Record<string, PlugboardUser> = Object.fromEntries(
  [...USERS, ADMIN].map((id) => [id, { id, name: id, permissions: [] }]),
);

type Message = { type: string; [key: string]: any };

/** The client process, with a way to wait for its next message of a given type. */
class ClientProcess {
  readonly child: ChildProcess;
  readonly #inbox: Message[] = [];
  #wake: (() => void) | undefined;
  #exit: string | undefined;

  constructor() {
    this.child = fork(clientScript, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (message: Message) => {
      this.#inbox.push(message);
      this.#wake?.();
    });
    this.child.once('exit', (code, signal) => {
      this.#exit = `the client process exited (${code ?? signal})`;
      this.#wake?.();
    });
  }

  send(message: Message): void {
    this.child.send(message);
  }

  async next(type: string, ms: number): Promise<Message> {
    const deadline = Date.now() + ms;
    for (;;) {
      const error = this.#inbox.find((m) => m.type === 'error');
      if (error) throw new Error(`client process: ${error.message}`);
      const index = this.#inbox.findIndex((m) => m.type === type);
      if (index >= 0) return this.#inbox.splice(index, 1)[0]!;
      if (this.#exit) throw new Error(this.#exit);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no \`${type}\` message from the client process within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  stop(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

let host: Host | undefined;
let listener: import('node:http').Server | undefined;
let clients: ClientProcess | undefined;
afterAll(async () => {
  clients?.stop();
  listener?.closeAllConnections();
  await new Promise((resolve) => (listener ? listener.close(resolve) : resolve(undefined)));
  await host?.stop({ timeoutMs: 5000 });
  rmSync(dir, { recursive: true, force: true });
});

describe('soak: many tasks, 100 event streams, the SQLite store', () => {
  it(
    `${TASKS} tasks: flat memory, every task final, every stream gets exactly its own events, nothing lost`,
    async () => {
      mkdirSync(dir, { recursive: true });
      const dbPath = `${dir}/plugboard.db`;
      host = createHost({
        env: false,
        argv: [],
        plugins: { classes: [TickPlugin] },
        store: sqliteStore({ path: dbPath, maxFinishedTasks: 10 * TASKS }),
        concurrency: 16,
      });
      await host.start();
      const reported: unknown[] = [];
      const router = plugboardRouter(host, {
        getUser: (req) => {
          const name = req.get('x-user');
          return name !== undefined && Object.hasOwn(people, name) ? people[name] : undefined;
        },
        isAdmin: (user) => user.id === ADMIN,
        eventBufferSize: EVENT_BUFFER,
        heartbeatMs: 5000,
        onError: (error) => reported.push(error),
      });
      const app = express().use('/plugboard', router);
      listener = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => listener!.once('listening', resolve));
      const url = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/plugboard`;

      // 96 streams of ordinary users and 4 of the administrator; one of each stops reading for a while, twice.
      const specs = [
        ...USERS.flatMap((user) => Array.from({ length: CLIENTS_PER_USER }, () => ({ user, stalls: [] }))),
        ...Array.from({ length: ADMIN_CLIENTS }, () => ({ user: ADMIN, stalls: [] })),
      ] as { user: string; stalls: [number, number][] }[];
      const stall = (from: number, to: number): [number, number] => [
        from * SECONDS * 10,
        (to - from) * SECONDS * 10,
      ];
      specs[0]!.stalls = [stall(5, 25), stall(50, 70)];
      specs.at(-1)!.stalls = [stall(10, 45), stall(60, 90)];
      clients = new ClientProcess();
      const begun = performance.now();
      clients.send({ type: 'open', url, clients: specs });
      await clients.next('ready', 60_000);
      expect(router.eventStreams).toBe(specs.length);

      // Load: the client process posts over HTTP while this process queues its share directly.
      let finishedCount = 0;
      host.events.on('task:finished', () => {
        finishedCount++;
      });
      const samples: { tasks: number; heap: number }[] = [];
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          await new Promise((resolve) => setTimeout(resolve, 1000));
          samples.push({ tasks: finishedCount, heap: heapAfterGc() });
        }
      })();
      const direct = Math.round(TASKS * DIRECT_SHARE);
      const perSecond = TASKS / SECONDS;
      clients.send({
        type: 'post',
        users: USERS,
        count: TASKS - direct,
        concurrency: 16,
        plugin: 'tick',
        perSecond: perSecond * (1 - DIRECT_SHARE),
      });
      const directIds: Record<string, string[]> = Object.fromEntries(USERS.map((u) => [u, []]));
      const directBegun = Date.now();
      for (let i = 0; i < direct; i++) {
        const due = directBegun + (i * 1000) / (perSecond * DIRECT_SHARE) - Date.now();
        if (due > 0) await new Promise((resolve) => setTimeout(resolve, due));
        const user = USERS[i % USERS.length]!;
        const { tasks } = await host.execute('tick', { n: 1_000_000 + i }, { user: people[user] });
        directIds[user]!.push(...tasks.map((t) => t.id));
      }
      const posted = await clients.next('posted', 15 * 60_000);
      expect(posted.refused).toEqual([]);

      // Every task reaches a final state.
      const everyId = USERS.flatMap((u) => [...posted.ids[u], ...directIds[u]!]);
      expect(everyId).toHaveLength(TASKS);
      const deadline = Date.now() + 5 * 60_000;
      while (finishedCount < TASKS && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(finishedCount).toBe(TASKS);
      sampling = false;
      await sampler;

      // Every stream received exactly what its user is entitled to.
      const expected = Object.fromEntries(USERS.map((u) => [u, [...posted.ids[u], ...directIds[u]!]]));
      clients.send({ type: 'expect', expected, all: everyId, admin: ADMIN, timeoutMs: 120_000 });
      const { clients: report } = await clients.next('report', 5 * 60_000);
      const elapsed = (performance.now() - begun) / 1000;
      const faulty = report.filter(
        (c: any) =>
          c.missing > 0 || c.foreign > 0 || c.duplicates > 0 || c.resyncs > 0 || c.received !== c.expected,
      );
      const stalled = report.filter((c: any) => c.stalls > 0);
      console.log(
        `soak: ${TASKS} tasks, ${specs.length} streams in ${elapsed.toFixed(1)} s; ` +
          `${report.reduce((n: number, c: any) => n + c.frames, 0)} events delivered; stalled streams: ` +
          JSON.stringify(
            stalled.map((c: any) => ({ user: c.user, reconnects: c.reconnects, resyncs: c.resyncs })),
          ),
      );
      expect(faulty).toEqual([]);
      expect(report.every((c: any) => c.errors.length === 0)).toBe(true);
      clients.stop();

      // Nothing lost in the store: every task is there, succeeded, with its one log line.
      const states = new Map<string, number>();
      for (const id of everyId) {
        const record = await host.tasks.get(id);
        expect(record, id).toBeDefined();
        expect(isFinalState(record!.state)).toBe(true);
        states.set(record!.state, (states.get(record!.state) ?? 0) + 1);
      }
      expect(Object.fromEntries(states)).toEqual({ succeeded: TASKS });
      for (const id of everyId.filter((_, i) => i % 97 === 0)) {
        const logs = await host.tasks.logs(id);
        expect(logs.map((l) => l.message)).toEqual([expect.stringMatching(/^tick \d+$/)]);
      }
      expect(reported).toEqual([]);
      await host.stop({ timeoutMs: 5000 });
      host = undefined;
      const db = new Database(dbPath, { readonly: true });
      try {
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
        expect((db.prepare('SELECT count(*) AS n FROM tasks').get() as { n: number }).n).toBe(TASKS);
      } finally {
        db.close();
      }

      // Memory stays flat: after warm-up (the event buffer full, statements prepared) the live heap does not
      // grow with the number of tasks.
      console.log(
        `soak heap (MB after gc): ${samples.map((s) => `${s.tasks}:${(s.heap / 2 ** 20).toFixed(1)}`).join(' ')}`,
      );
      // Each task makes four events; once the event buffer is full it stops growing.
      const warm = samples.filter((s) => s.tasks >= Math.max(TASKS / 2, EVENT_BUFFER / 3));
      expect(warm.length).toBeGreaterThanOrEqual(2);
      const baseline = Math.min(...warm.map((s) => s.heap));
      const peak = Math.max(...warm.map((s) => s.heap));
      expect(peak - baseline).toBeLessThan(FLAT_HEAP_BYTES);
    },
    20 * 60_000,
  );
});
