import type { Host, HostEvents, PlugboardUser, TaskRecord } from '@plugboard/core';
import type { Audience } from './audience.js';
import { offerDirectStream, type StreamSink } from './direct-stream.js';
import type { EventLog, EventScope, LoggedEvent } from './event-log.js';
import { taskView, viewerReason } from './public-views.js';

/** A stream whose unsent output grows past this is dropped; the browser reconnects and resumes. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** How long a browser waits before reconnecting, in milliseconds. */
const RETRY_MS = 3000;

interface StreamClient<User extends PlugboardUser> {
  /** The web stream's controller, or a Node response once an adapter took the stream over. */
  sink: StreamSink;
  /** Whether a window's frames were written to the client yet (a stream can be taken over only before). */
  written: boolean;
  readonly audience: Audience<User>;
  /**
   * Which frames of the current window the client receives, as their indices (`0,2,`): one write per client
   * per window, however many events, and one encoded buffer for all clients that receive the same frames.
   */
  pending: string;
}

const encoder = new TextEncoder();

// Node and Bun run a callback once the current turn's I/O is done; elsewhere a zero timeout comes closest.
const nextTurn: (callback: () => void) => unknown =
  globalThis.setImmediate ?? ((callback: () => void) => setTimeout(callback, 0));

/** The response headers of an event stream. */
const STREAM_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
};

/**
 * One frame a host event becomes. With `view`, the frame's data is `view(payload)`, made when a stream first needs
 * it (the payload is a task record, which is never changed once emitted).
 */
type Forward = { payload: unknown; scope: EventScope; view?: (payload: never) => unknown };

type Forwarded = {
  [K in keyof HostEvents]?: (...args: HostEvents[K]) => Forward | Forward[];
};

/** A plugin that came or changed with a reload: everyone who may see the plugin learns of it. */
function pluginChange(id: string, change: 'reloaded' | 'added', at: number): Forward {
  return { payload: { id, change, at }, scope: { pluginId: id, userId: null, adminOnly: false } };
}

// The host's events, as clients receive them: task records without stacks, each event scoped to its owner.
const FORWARDED: Forwarded = {
  // Administrators read why a plugin cannot run; everyone else who may see the plugin reads it in words for a
  // viewer, as in the plugin list, without set-up details.
  'plugin:status': (event) => {
    const forViewers = { ...event, reason: viewerReason(event.status, event.reason) };
    if (forViewers.reason === event.reason) {
      return { payload: event, scope: { pluginId: event.id, userId: null, adminOnly: false } };
    }
    return [
      { payload: event, scope: { pluginId: event.id, userId: null, adminOnly: true } },
      {
        payload: forViewers,
        scope: { pluginId: event.id, userId: null, adminOnly: false, viewersOnly: true },
      },
    ];
  },
  'task:queued': taskRecordFrame,
  'task:started': taskRecordFrame,
  'task:progress': (event) => ({ payload: event, scope: taskScope(event.pluginId, event.userId) }),
  'task:log': (event) => ({ payload: event, scope: taskScope(event.pluginId, event.userId) }),
  'task:finished': taskRecordFrame,
  // One frame per plugin, without the module's path or the reload's problems (administrators read those in the
  // boot report). A removed plugin can no longer be looked up to decide who sees it: only administrators learn of it.
  'plugin:reloaded': (reload) => [
    ...reload.reloaded.map((id) => pluginChange(id, 'reloaded', reload.at)),
    ...reload.added.map((id) => pluginChange(id, 'added', reload.at)),
    ...reload.removed.map((id) => ({
      payload: { id, change: 'removed', at: reload.at },
      scope: { pluginId: id, userId: null, adminOnly: true },
    })),
  ],
  'schedule:fired': (event) => ({
    payload: event,
    scope: { pluginId: event.pluginId, userId: null, adminOnly: true },
  }),
};

function taskScope(pluginId: string, userId: string): EventScope {
  return { pluginId, userId, adminOnly: false };
}

/** A task record's frame: its client view, made when a stream first needs it. */
function taskRecordFrame(record: TaskRecord): Forward {
  return { payload: record, view: taskView, scope: taskScope(record.pluginId, record.user.id) };
}

function frame(event: LoggedEvent): string {
  return `id: ${event.id}\nevent: ${event.name}\ndata: ${event.data}\n\n`;
}

/**
 * Forwards the host's plugin, task and schedule events to Server-Sent Event streams, each filtered for its
 * user, and keeps the recent ones in an {@link EventLog} for clients that resume with `Last-Event-ID`.
 */
export class EventStreamHub<User extends PlugboardUser = PlugboardUser> {
  readonly #host: Host<User>;
  readonly #log: EventLog;
  readonly #heartbeatMs: number;
  readonly #batchMs: number;
  readonly #clients = new Set<StreamClient<User>>();
  readonly #unsubscribe: Array<() => void> = [];
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #flushing = false;
  /** The frames of the current window, in order. */
  #turn: string[] = [];

  constructor(host: Host<User>, log: EventLog, heartbeatMs: number, batchMs = 0) {
    this.#host = host;
    this.#log = log;
    this.#heartbeatMs = heartbeatMs;
    this.#batchMs = batchMs;
    for (const name of Object.keys(FORWARDED) as (keyof Forwarded)[]) this.#forward(name);
  }

  /** How many streams are open. */
  get connections(): number {
    return this.#clients.size;
  }

  /**
   * Opens a stream: replays what a client resuming from `lastEventId` missed, then forwards live events. The
   * stream ends when the client goes away (`signal` aborts or the body is cancelled) or the hub closes.
   */
  open(lastEventId: string | null, signal: AbortSignal, audience: Audience<User>): Response {
    let opening = `retry: ${RETRY_MS}\n\n`;
    if (lastEventId === null) {
      opening += `id: ${this.#log.lastId}\nevent: ready\ndata: {"resumed":false}\n\n`;
    } else {
      const missed = this.#log.since(lastEventId);
      if (missed === undefined) {
        opening += `id: ${this.#log.lastId}\nevent: resync\ndata: {"reason":"The events since \`Last-Event-ID\` are no longer kept; reload the state."}\n\n`;
      } else {
        for (const event of missed) if (this.#visible(event, audience)) opening += frame(event);
        opening += 'event: ready\ndata: {"resumed":true}\n\n';
      }
    }
    let client: StreamClient<User> | undefined;
    let web: ReadableStreamDefaultController<Uint8Array> | undefined;
    const openingBytes = encoder.encode(opening);
    const drop = () => {
      if (client && client.sink === web) this.#drop(client);
    };
    const body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          web = controller;
          controller.enqueue(openingBytes);
          if (signal.aborted) {
            controller.close();
            return;
          }
          client = { sink: controller, written: false, audience, pending: '' };
          this.#clients.add(client);
          this.#startHeartbeat();
          signal.addEventListener('abort', () => {
            if (client && this.#clients.has(client)) {
              this.#drop(client);
              client.sink.close();
            }
          });
        },
        cancel: drop,
      },
      new ByteLengthQueuingStrategy({ highWaterMark: 64 * 1024 }),
    );
    const response = new Response(body, { status: 200, headers: STREAM_HEADERS });
    // A Node adapter writes to the socket itself, provided nothing but the opening has gone into the web stream.
    offerDirectStream(response, (sink) => {
      const taken = client;
      if (!taken || !this.#clients.has(taken) || taken.sink !== web || taken.written || body.locked)
        return undefined;
      sink.enqueue(openingBytes);
      taken.sink = sink;
      return () => this.#drop(taken);
    });
    return response;
  }

  /** Ends every stream and stops forwarding the host's events. */
  close(): void {
    for (const off of this.#unsubscribe.splice(0)) off();
    const encoded = new Map<string, Uint8Array>();
    for (const client of [...this.#clients]) {
      this.#flushClient(client, encoded);
      this.#drop(client);
      client.sink.close();
    }
    this.#turn = [];
  }

  #forward<K extends keyof Forwarded>(name: K): void {
    const toClient = FORWARDED[name]!;
    const listener = (...args: HostEvents[K]) => {
      const frames = toClient(...args);
      for (const { payload, scope, view } of Array.isArray(frames) ? frames : [frames]) {
        this.#broadcast(this.#log.append(name, payload, scope, view));
      }
    };
    // eventemitter3's typed `on` cannot relate a generic K to its listener type; the map above is typed per event.
    this.#host.events.on(name, listener as never);
    this.#unsubscribe.push(() => this.#host.events.off(name, listener as never));
  }

  #visible(event: LoggedEvent, audience: Audience<User>): boolean {
    const { scope } = event;
    if (scope.adminOnly) return audience.isAdmin;
    if (scope.viewersOnly && audience.isAdmin) return false;
    if (scope.userId !== null) return audience.seesTasksOf(scope.userId);
    return audience.seesPlugin(this.#host.plugins.get(scope.pluginId));
  }

  #broadcast(event: LoggedEvent): void {
    if (this.#clients.size === 0) return;
    const index = `${this.#turn.push(frame(event)) - 1},`;
    for (const client of this.#clients) {
      if (this.#visible(event, client.audience)) client.pending += index;
    }
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (!this.#flushing) {
      this.#flushing = true;
      if (this.#batchMs === 0) nextTurn(this.#flush);
      else setTimeout(this.#flush, this.#batchMs);
    }
  }

  // Frames of one window (a task's queued, started and finished events, a burst of log lines...) leave in one write
  // per client: a write to a socket costs more than the frames it carries. Clients that receive the same frames
  // share one encoded buffer.
  readonly #flush = (): void => {
    this.#flushing = false;
    const encoded = new Map<string, Uint8Array>();
    for (const client of this.#clients) this.#flushClient(client, encoded);
    this.#turn = [];
  };

  #flushClient(client: StreamClient<User>, encoded: Map<string, Uint8Array>): void {
    const indices = client.pending;
    if (indices === '') return;
    client.pending = '';
    let bytes = encoded.get(indices);
    if (bytes === undefined) {
      let text = '';
      for (const index of indices.slice(0, -1).split(',')) text += this.#turn[Number(index)];
      bytes = encoder.encode(text);
      encoded.set(indices, bytes);
    }
    client.written = true;
    client.sink.enqueue(bytes);
    // A client that reads slower than events come is dropped; the browser reconnects and resumes.
    if ((client.sink.desiredSize ?? 0) < -MAX_BUFFERED_BYTES) {
      this.#drop(client);
      client.sink.error(new Error('The event stream client reads too slowly; it was disconnected.'));
    }
  }

  #drop(client: StreamClient<User>): void {
    if (!this.#clients.delete(client)) return;
    client.pending = '';
    if (this.#clients.size === 0 && this.#heartbeat) {
      clearInterval(this.#heartbeat);
      this.#heartbeat = undefined;
    }
  }

  #startHeartbeat(): void {
    if (this.#heartbeat) return;
    this.#heartbeat = setInterval(() => {
      const index = `${this.#turn.push(`: heartbeat ${Date.now()}\n\n`) - 1},`;
      for (const client of this.#clients) client.pending += index;
      this.#scheduleFlush();
    }, this.#heartbeatMs);
    // Deno and browsers-like runtimes return a number here; only Node's timers can be unreferenced.
    (this.#heartbeat as { unref?: () => void }).unref?.();
  }
}
