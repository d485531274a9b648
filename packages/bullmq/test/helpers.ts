import { bullmqRuntime, createWorker, type PlugboardWorker } from '@plugboard/bullmq';
import type { Host, PluginClass, TaskRecord } from '@plugboard/core';
import { createTestHost, type TestHostOptions } from '@plugboard/testing';
import { afterEach } from 'vitest';

/** Where a test's Redis listens. */
export interface RedisConnection {
  readonly host: string;
  readonly port: number;
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Reads until `ok` holds or `ms` pass, and returns the last value read. */
export async function eventually<T>(
  read: () => Promise<T>,
  ok: (value: T) => boolean,
  ms = 5000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await read();
  while (!ok(value) && Date.now() < deadline) {
    await sleep(10);
    value = await read();
  }
  return value;
}

/** Counts the `task:finished` events of each task a host emits. */
export function finishedCounts(host: Host): Map<string, number> {
  const counts = new Map<string, number>();
  host.events.on('task:finished', (r: TaskRecord) => counts.set(r.id, (counts.get(r.id) ?? 0) + 1));
  return counts;
}

/**
 * Listens for `task:started` from now on (a task may start before `execute` resolves); the returned function
 * resolves once every given task has started.
 */
export function watchStarts(host: Host): (ids: readonly string[]) => Promise<void> {
  const seen = new Set<string>();
  const listeners = new Set<() => void>();
  host.events.on('task:started', (r: TaskRecord) => {
    seen.add(r.id);
    for (const listener of listeners) listener();
  });
  return (ids) =>
    new Promise((resolve) => {
      const check = () => {
        if (!ids.every((id) => seen.has(id))) return;
        listeners.delete(check);
        resolve();
      };
      listeners.add(check);
      check();
    });
}

/** Options of an API host or in-process worker started by {@link bullmqFleet}. */
export interface FleetMemberOptions {
  /** The BullMQ queue name; a fresh one per test keeps tests apart. */
  readonly queue: string;
  readonly plugins: readonly PluginClass[];
  /** Another Redis than the fleet's. */
  readonly connection?: RedisConnection;
}

/**
 * API hosts (tasks run on BullMQ) and in-process workers for one test file, all stopped after each test.
 * `connection` is read when a member starts, so it may come from a `beforeAll`.
 */
export function bullmqFleet(connection: () => RedisConnection, stopTimeoutMs = 200) {
  const hosts: Host[] = [];
  const workers: PlugboardWorker[] = [];
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.stop({ timeoutMs: stopTimeoutMs })));
    await Promise.all(workers.splice(0).map((w) => w.stop({ timeoutMs: stopTimeoutMs })));
  });
  return {
    /** Starts a host whose tasks run on the queue's workers. */
    async apiHost(options: FleetMemberOptions & Omit<TestHostOptions, 'plugins' | 'runtime'>): Promise<Host> {
      const { queue, plugins, connection: own, ...hostOptions } = options;
      const runtime = bullmqRuntime({ connection: own ?? connection(), queue });
      const host = await createTestHost({ ...hostOptions, plugins, runtime });
      hosts.push(host);
      return host;
    },
    /** Starts a worker in this process. */
    async worker(options: FleetMemberOptions & { readonly concurrency?: number }): Promise<PlugboardWorker> {
      const worker = createWorker({
        env: false,
        argv: [],
        plugins: { classes: options.plugins },
        connection: options.connection ?? connection(),
        queue: options.queue,
        ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
      });
      workers.push(worker);
      await worker.start();
      return worker;
    },
  };
}

/** Resolves after `ms`, or rejects with the signal's reason once it aborts (a task that honours cancel). */
export function nap(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });
}
