/** One Server-Sent Event as a client parses it; comments (heartbeats) have the name `comment`. */
export interface ReceivedEvent {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: string;
  /** Which read of the response body brought the event (0 for the first chunk): events sent in one write share it. */
  readonly chunk: number;
}

/** A minimal EventSource over fetch that keeps every frame, so tests can wait for one. */
export class EventStreamClient {
  readonly received: ReceivedEvent[] = [];
  readonly response: Response;
  readonly #abort: AbortController;
  readonly #done: Promise<void>;
  #waiters: Array<() => void> = [];
  #chunks = 0;

  private constructor(response: Response, abort: AbortController) {
    this.response = response;
    this.#abort = abort;
    this.#done = this.#read();
  }

  /** Opens `url` with the given headers; resolves once the response headers arrived. */
  static async open(url: string, headers: Record<string, string>): Promise<EventStreamClient> {
    const abort = new AbortController();
    const response = await fetch(url, { headers, signal: abort.signal });
    return new EventStreamClient(response, abort);
  }

  /** Resolves with the first received event matching `predicate`, waiting up to `ms`. */
  async next(predicate: (event: ReceivedEvent) => boolean, ms = 5000): Promise<ReceivedEvent> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.received.find(predicate);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `No matching event within ${ms} ms; got ${JSON.stringify(this.received.map((e) => e.event))}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The parsed JSON data of every received event with this name. */
  data(name: string): any[] {
    return this.received.filter((e) => e.event === name).map((e) => JSON.parse(e.data));
  }

  /** Disconnects. */
  async close(): Promise<void> {
    this.#abort.abort();
    await this.#done;
  }

  async #read(): Promise<void> {
    if (!this.response.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of this.response.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          this.#parse(buffer.slice(0, end), this.#chunks);
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf('\n\n');
        }
        this.#chunks++;
      }
    } catch {
      // Aborted by close().
    }
  }

  #parse(block: string, chunk: number): void {
    let id: string | undefined;
    let event = 'message';
    const data: string[] = [];
    let comment = false;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) comment = true;
      else if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (comment && data.length === 0) event = 'comment';
    else if (data.length === 0) return;
    this.received.push({ id, event, data: data.join('\n'), chunk });
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
