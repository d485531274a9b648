import { randomBytes } from 'node:crypto';

/** Who an event concerns, so each stream shows it only to users who may see it. */
export interface EventScope {
  /** The plugin the event is about. */
  readonly pluginId: string;
  /** The owner of the task the event is about; `null` for plugin and schedule events. */
  readonly userId: string | null;
  /** Only administrators receive it (schedule events). */
  readonly adminOnly: boolean;
  /** Only users who are not administrators receive it (the viewer's wording of a frame administrators get in full). */
  readonly viewersOnly?: boolean;
}

/** One event as written to streams: its id, name, serialised data and scope. */
export interface LoggedEvent {
  /** `<epoch>-<sequence>`: the epoch tells a resuming client whether the ids came from this process. */
  readonly id: string;
  readonly seq: number;
  readonly name: string;
  /** The event's data as JSON, made when a stream first needs it. */
  readonly data: string;
  readonly scope: EventScope;
}

/**
 * A logged event whose data is serialised when first read: a host with no stream open pays nothing per event
 * beyond keeping it for clients that resume. `view` turns the payload into what clients receive.
 */
class Logged implements LoggedEvent {
  readonly id: string;
  readonly seq: number;
  readonly name: string;
  readonly scope: EventScope;
  #payload: unknown;
  #view: ((payload: never) => unknown) | undefined;
  #data: string | undefined;

  constructor(
    id: string,
    seq: number,
    name: string,
    payload: unknown,
    view: ((payload: never) => unknown) | undefined,
    scope: EventScope,
  ) {
    this.id = id;
    this.seq = seq;
    this.name = name;
    this.scope = scope;
    this.#payload = payload;
    this.#view = view;
  }

  get data(): string {
    if (this.#data === undefined) {
      const view = this.#view;
      this.#data =
        JSON.stringify(view === undefined ? this.#payload : view(this.#payload as never)) ?? 'null';
      this.#payload = undefined;
      this.#view = undefined;
    }
    return this.#data;
  }
}

/**
 * The most recent events in a fixed-size ring, so a client reconnecting with `Last-Event-ID` gets what it
 * missed. Memory stays bounded however long the process runs.
 */
export class EventLog {
  readonly #ring: (LoggedEvent | undefined)[];
  readonly #epoch = randomBytes(4).toString('hex');
  #seq = 0;

  constructor(capacity: number) {
    this.#ring = new Array<LoggedEvent | undefined>(capacity).fill(undefined);
  }

  /** The id of the newest event (`<epoch>-0` before the first). */
  get lastId(): string {
    return `${this.#epoch}-${this.#seq}`;
  }

  /**
   * Appends an event and returns it with its id. The payload must not change afterwards: it is serialised (through
   * `view`, when given) only when a stream first needs it.
   */
  append(name: string, payload: unknown, scope: EventScope, view?: (payload: never) => unknown): LoggedEvent {
    const seq = ++this.#seq;
    const event = new Logged(`${this.#epoch}-${seq}`, seq, name, payload, view, scope);
    this.#ring[(seq - 1) % this.#ring.length] = event;
    return event;
  }

  /**
   * The events after `lastEventId`, oldest first; `undefined` when they cannot be replayed (the id is from
   * another process or older than the ring holds), so the client must reload its state.
   */
  since(lastEventId: string): LoggedEvent[] | undefined {
    const match = /^([0-9a-f]{8})-(\d{1,15})$/.exec(lastEventId);
    if (!match || match[1] !== this.#epoch) return undefined;
    const last = Number(match[2]);
    const oldest = Math.max(1, this.#seq - this.#ring.length + 1);
    if (last > this.#seq || last < oldest - 1) return undefined;
    const events: LoggedEvent[] = [];
    for (let seq = last + 1; seq <= this.#seq; seq++) events.push(this.#ring[(seq - 1) % this.#ring.length]!);
    return events;
  }
}
