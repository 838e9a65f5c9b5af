import type { StreamLimiter } from "./limits";
import type { SseEvent } from "./poller";

/** What goes on the wire: a stream's own event, or the combined stream's with a cursor as its id. */
export type WireEvent = Omit<SseEvent, "id"> & { id: number | string };

export interface SseSink {
  send(event: WireEvent): void;
  /** End the stream from the server side (e.g. after `?once=1`). */
  close(): void;
}

export interface SseOptions {
  /** Comment line sent when nothing else was, so proxies keep the connection. */
  keepAliveMs: number;
  /** Reconnect delay the browser's EventSource uses (`retry:`). */
  retryMs: number;
  /** Start streaming; returns the cleanup, run exactly once when the stream ends for any reason. */
  start(sink: SseSink): () => void;
  /**
   * The connection caps this stream counts against (lib/sse/limits.ts): a slot
   * is taken before the stream opens (429 `too_many_streams` when none is free)
   * and given back when it ends, for whatever reason.
   */
  limit?: { limiter: StreamLimiter; client: string };
}

/**
 * Bytes queued for a client that does not read. Past this the client is
 * dropped (it reconnects with Last-Event-ID): a stalled reader must not grow
 * the server's memory. 1 MiB ≈ 1,000 typical events.
 */
const MAX_QUEUED_BYTES = 1 << 20;

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache, no-transform",
  connection: "keep-alive",
  "x-accel-buffering": "no",
} as const;

const encoder = new TextEncoder();
/**
 * A poller hands the same event object to every subscriber: encode it once,
 * not once per client (1,000 clients on one stream would encode it 1,000 times).
 */
const KEEP_ALIVE = encoder.encode(": keep-alive\n\n");
const encodedEvents = new WeakMap<WireEvent, Uint8Array>();

function encodeEvent(e: WireEvent): Uint8Array {
  let bytes = encodedEvents.get(e);
  if (!bytes) encodedEvents.set(e, (bytes = encoder.encode(formatEvent(e))));
  return bytes;
}

export function formatEvent(e: WireEvent): string {
  return `id: ${e.id}\nevent: ${e.event}\ndata: ${e.data}\n\n`;
}

/** The one helper that builds every SSE response of the console. Throws the 429 ApiError when over a connection cap. */
export function sseResponse(request: Request, opts: SseOptions): Response {
  const release = opts.limit ? opts.limit.limiter.acquire(opts.limit.client) : undefined;
  let cleanup: (() => void) | undefined;
  let finished = false;
  let keepAlive: ReturnType<typeof setInterval> | undefined;
  let controllerRef: ReadableStreamDefaultController<Uint8Array> | undefined;

  const finish = () => {
    if (finished) return;
    finished = true;
    clearInterval(keepAlive);
    request.signal.removeEventListener("abort", finish);
    const run = cleanup;
    cleanup = undefined;
    try {
      run?.();
    } finally {
      release?.();
      try {
        controllerRef?.close();
      } catch {
        // Already closed or errored by the client going away.
      }
    }
  };

  const write = (bytes: Uint8Array) => {
    if (finished || !controllerRef) return;
    if ((controllerRef.desiredSize ?? 0) < -MAX_QUEUED_BYTES) return finish();
    controllerRef.enqueue(bytes);
  };

  const source: UnderlyingDefaultSource<Uint8Array> = {
    start(controller) {
      controllerRef = controller;
      if (request.signal.aborted) return finish();
      request.signal.addEventListener("abort", finish, { once: true });
      write(encoder.encode(`retry: ${opts.retryMs}\n: connected\n\n`));
      keepAlive = setInterval(() => write(KEEP_ALIVE), opts.keepAliveMs);
      keepAlive.unref?.();
      const sink: SseSink = { send: (e) => write(encodeEvent(e)), close: finish };
      const stop = opts.start(sink);
      if (finished) stop();
      else cleanup = stop;
    },
    cancel: finish,
  };
  let stream: ReadableStream<Uint8Array>;
  try {
    // Count bytes so desiredSize measures the queued bytes of a slow client.
    stream = new ReadableStream<Uint8Array>(source, { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength });
  } catch (err) {
    // `start` threw while opening: no stream will end, so give the slot back here.
    finish();
    throw err;
  }
  return new Response(stream, { headers: SSE_HEADERS });
}
