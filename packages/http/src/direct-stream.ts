/**
 * Where an event stream writes its bytes: the web stream's controller, or a Node response written to directly.
 * The controller of a `ReadableStream` has this shape.
 */
export interface StreamSink {
  enqueue(chunk: Uint8Array): void;
  /** Room left before the sink is full; negative once it holds more than it should. */
  readonly desiredSize: number | null;
  close(): void;
  error(reason: unknown): void;
}

/**
 * Event stream responses a server adapter on Node may write to directly instead of reading their body through the
 * web stream (a write to a socket then skips the stream's queue, reader and promises). The function hands the
 * stream over to `sink` and answers the function to call when the connection closes, or `undefined` when the body
 * was read or written already: the adapter then reads the body as for any response.
 */
const DIRECT = new WeakMap<Response, TakeOver>();

/** Hands an event stream over to `sink`; see {@link offerDirectStream}. */
export type TakeOver = (sink: StreamSink) => (() => void) | undefined;

/** Remembers how `response`'s stream can be handed over to a direct sink. */
export function offerDirectStream(response: Response, takeOver: TakeOver): void {
  DIRECT.set(response, takeOver);
}

/** The hand-over of an event stream response, or `undefined` for any other response. */
export function directStreamOf(response: Response): TakeOver | undefined {
  return DIRECT.get(response);
}
