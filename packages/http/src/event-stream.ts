import type { Host, HostEvents, PlugboardUser } from '@plugboard/core';
import type { Request, Response } from 'express';
import type { Audience } from './audience.js';
import type { EventLog, EventScope, LoggedEvent } from './event-log.js';
import { taskView } from './public-views.js';

/** A stream whose unsent output grows past this is dropped; the browser reconnects and resumes. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** How long a browser waits before reconnecting, in milliseconds. */
const RETRY_MS = 3000;

interface StreamClient<User extends PlugboardUser> {
  readonly res: Response;
  readonly audience: Audience<User>;
}

/** One frame a host event becomes. */
type Forward = { payload: unknown; scope: EventScope };

type Forwarded = {
  [K in keyof HostEvents]?: (...args: HostEvents[K]) => Forward | Forward[];
};

/** A plugin that came or changed with a reload: everyone who may see the plugin learns of it. */
function pluginChange(id: string, change: 'reloaded' | 'added', at: number): Forward {
  return { payload: { id, change, at }, scope: { pluginId: id, userId: null, adminOnly: false } };
}

// The host's events, as clients receive them: task records without stacks, each event scoped to its owner.
const FORWARDED: Forwarded = {
  'plugin:status': (event) => ({
    payload: event,
    scope: { pluginId: event.id, userId: null, adminOnly: false },
  }),
  'task:queued': (record) => ({
    payload: taskView(record),
    scope: taskScope(record.pluginId, record.user.id),
  }),
  'task:started': (record) => ({
    payload: taskView(record),
    scope: taskScope(record.pluginId, record.user.id),
  }),
  'task:progress': (event) => ({ payload: event, scope: taskScope(event.pluginId, event.userId) }),
  'task:log': (event) => ({ payload: event, scope: taskScope(event.pluginId, event.userId) }),
  'task:finished': (record) => ({
    payload: taskView(record),
    scope: taskScope(record.pluginId, record.user.id),
  }),
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
  readonly #clients = new Set<StreamClient<User>>();
  readonly #unsubscribe: Array<() => void> = [];
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(host: Host<User>, log: EventLog, heartbeatMs: number) {
    this.#host = host;
    this.#log = log;
    this.#heartbeatMs = heartbeatMs;
    for (const name of Object.keys(FORWARDED) as (keyof Forwarded)[]) this.#forward(name);
  }

  /** How many streams are open. */
  get connections(): number {
    return this.#clients.size;
  }

  /** Starts a stream on `res`: replays what a resuming client missed, then forwards live events. */
  open(req: Request, res: Response, audience: Audience<User>): void {
    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    req.socket.setNoDelay(true);
    const client: StreamClient<User> = { res, audience };
    let opening = `retry: ${RETRY_MS}\n\n`;
    const lastEventId = req.get('Last-Event-ID');
    if (lastEventId === undefined) {
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
    res.write(opening);
    this.#clients.add(client);
    this.#startHeartbeat();
    const drop = () => this.#drop(client);
    req.on('close', drop);
    res.on('error', drop);
  }

  /** Ends every stream and stops forwarding the host's events. */
  close(): void {
    for (const off of this.#unsubscribe.splice(0)) off();
    for (const client of [...this.#clients]) {
      client.res.end();
      this.#drop(client);
    }
  }

  #forward<K extends keyof Forwarded>(name: K): void {
    const toClient = FORWARDED[name]!;
    const listener = (...args: HostEvents[K]) => {
      const frames = toClient(...args);
      for (const { payload, scope } of Array.isArray(frames) ? frames : [frames]) {
        this.#broadcast(this.#log.append(name, payload, scope));
      }
    };
    // eventemitter3's typed `on` cannot relate a generic K to its listener type; the map above is typed per event.
    this.#host.events.on(name, listener as never);
    this.#unsubscribe.push(() => this.#host.events.off(name, listener as never));
  }

  #visible(event: LoggedEvent, audience: Audience<User>): boolean {
    const { scope } = event;
    if (scope.adminOnly) return audience.isAdmin;
    if (scope.userId !== null) return audience.seesTasksOf(scope.userId);
    return audience.seesPlugin(this.#host.plugins.get(scope.pluginId));
  }

  #broadcast(event: LoggedEvent): void {
    if (this.#clients.size === 0) return;
    const text = frame(event);
    for (const client of this.#clients) {
      if (this.#visible(event, client.audience)) this.#write(client, text);
    }
  }

  #write(client: StreamClient<User>, text: string): void {
    client.res.write(text);
    if (client.res.writableLength > MAX_BUFFERED_BYTES) {
      client.res.destroy();
      this.#drop(client);
    }
  }

  #drop(client: StreamClient<User>): void {
    if (!this.#clients.delete(client)) return;
    if (this.#clients.size === 0 && this.#heartbeat) {
      clearInterval(this.#heartbeat);
      this.#heartbeat = undefined;
    }
  }

  #startHeartbeat(): void {
    if (this.#heartbeat) return;
    this.#heartbeat = setInterval(() => {
      for (const client of this.#clients) this.#write(client, `: heartbeat ${Date.now()}\n\n`);
    }, this.#heartbeatMs);
    this.#heartbeat.unref();
  }
}
