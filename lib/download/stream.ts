import "server-only";
import { ApiError } from "@/lib/http/api-error";
import type { Logger } from "@/lib/log";
import { BoundedQueue } from "./bounded-queue";

/**
 * The console's file downloads (the DLQ's, a topic's export): rows pulled
 * from a Kafka (or RedDB) read as the client takes them, a bounded queue
 * between, a deadline for the whole file, and a few slots per console.
 */

/**
 * A whole download, first byte to last. A file of the 10,000 newest records
 * takes a few seconds from a local broker; two minutes leave room for a large
 * `all` over a slow link while bounding what one request can hold (a read, a
 * slot) when its client stalls.
 */
export const DOWNLOAD_DEADLINE_MS = 120_000;

/**
 * Downloads running at once in this console process, DLQ files and topic
 * exports alike, whoever asks: each holds a Kafka (or RedDB) read and may read
 * whole topics, so a few are enough for operators and bound what a script in
 * a loop can take.
 */
export const MAX_CONCURRENT_DOWNLOADS = 2;

/** Retry-After of a download refused because all slots are taken: a typical download ends within seconds. */
export const DOWNLOAD_RETRY_AFTER_SEC = 10;

/**
 * Rows held between the reader and the HTTP response: the response stream's
 * queue (its high-water mark) and the hand-off from the Kafka consumer each
 * hold at most this many. Enough to keep a fast client fed between fetches,
 * small enough that a slow one holds a few MB at most (plus the one fetch
 * in hand, bounded by its maxBytes).
 */
export const DOWNLOAD_QUEUE_ROWS = 64;

interface DownloadState {
  active: number;
  /** Reads in flight for downloads (each a Kafka read of one topic, both DLQ topics' buffered read, or a RedDB read). */
  readers: number;
}
const KEY = Symbol.for("embedline.downloads");
const state = (): DownloadState => {
  const g = globalThis as { [KEY]?: DownloadState };
  g[KEY] ??= { active: 0, readers: 0 };
  return g[KEY];
};

/** Downloads now running (slots taken) and the reads they hold open: for tests and metrics. */
export function downloadStats(): { active: number; readers: number } {
  const s = state();
  return { active: s.active, readers: s.readers };
}

/** Count a read a download opens, until `read` settles. */
export async function trackReader<T>(read: () => Promise<T>): Promise<T> {
  state().readers += 1;
  try {
    return await read();
  } finally {
    state().readers -= 1;
  }
}

/** Take a download slot, or 429 `rate_limited` with Retry-After when all are taken. The release runs once, however often called. */
export function acquireDownloadSlot(max = MAX_CONCURRENT_DOWNLOADS): () => void {
  const s = state();
  if (s.active >= max) {
    throw new ApiError("rate_limited", `${max} downloads (DLQ files or topic exports) are already running (at most ${max} at once); retry in ${DOWNLOAD_RETRY_AFTER_SEC} s`, {
      "retry-after": String(DOWNLOAD_RETRY_AFTER_SEC),
    });
  }
  s.active += 1;
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    s.active -= 1;
  };
}

/** Opens the items to write; the iterator stops its reads when `signal` aborts or `return()` is called. */
export type OpenItems<T> = (signal: AbortSignal) => AsyncIterator<T>;

/** The download's deadline passed: the client must see a failed download, not a short file. */
export class DownloadDeadlineError extends Error {
  override name = "DownloadDeadlineError";
}

export interface DownloadStreamOptions<T> {
  /** One item as the file's text (a JSON line, a CSV row). */
  row: (item: T) => string;
  /** Written before the first row (a CSV header). */
  header?: string;
  /** The client went away (the request's signal). */
  signal: AbortSignal;
  log: () => Logger;
  deadlineMs?: number;
  /** Runs exactly once, after the reader is released, on every path (end, error, deadline, client gone). */
  onClose?: () => void;
}

/**
 * The file as a pull-based stream: each `pull` awaits the next item from the
 * source, so the source reads only as fast as the client takes rows; the
 * stream queues at most DOWNLOAD_QUEUE_ROWS rows. At the deadline the stream
 * errors (the client's download fails; one log line says so). The source is
 * stopped and `onClose` runs exactly once on every path.
 */
export function downloadStream<T>(open: OpenItems<T>, opts: DownloadStreamOptions<T>): ReadableStream<Uint8Array> {
  const deadlineMs = opts.deadlineMs ?? DOWNLOAD_DEADLINE_MS;
  const stop = new AbortController();
  const deadline = AbortSignal.timeout(deadlineMs);
  const signal = AbortSignal.any([stop.signal, opts.signal, deadline]);
  const row = opts.row;
  const encoder = new TextEncoder();
  const items = open(signal);
  let rows = 0;
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      stop.abort();
      deadline.removeEventListener("abort", onDeadline);
      opts.signal.removeEventListener("abort", onGone);
      await Promise.resolve(items.return?.()).catch(() => {});
      opts.onClose?.();
    })());
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const fail = (err: unknown) => {
    try {
      controller.error(err);
    } catch {
      // Already closed or errored.
    }
    void close();
  };
  // The deadline fails the stream even while no pull is pending (a client that stopped reading).
  const onDeadline = () => {
    if (closed) return;
    opts.log().warn({ deadlineMs, rows }, "download stopped at its deadline; the client gets a failed download, not a short file");
    fail(new DownloadDeadlineError(`the download did not finish within its ${deadlineMs / 1000} s deadline`));
  };
  const onGone = () => void close();
  deadline.addEventListener("abort", onDeadline, { once: true });
  opts.signal.addEventListener("abort", onGone, { once: true });

  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
        if (opts.header) c.enqueue(encoder.encode(opts.header));
      },
      async pull(c) {
        try {
          const next = await items.next();
          if (closed) return;
          if (next.done) {
            // Released before the client sees the end: a client that starts its next download at once finds the slot free.
            await close();
            c.close();
            return;
          }
          rows += 1;
          c.enqueue(encoder.encode(row(next.value)));
        } catch (err) {
          if (closed) return;
          opts.log().error({ err, rows }, "download failed midway");
          fail(err);
        }
      },
      cancel: () => close(),
    },
    new CountQueuingStrategy({ highWaterMark: DOWNLOAD_QUEUE_ROWS }),
  );
}

/**
 * Items from a push-based read (`read` calls `push` for each item and
 * resolves when done) as an async iterator, through a queue of at most
 * DOWNLOAD_QUEUE_ROWS: `push` waits while the client is slow (and the Kafka
 * read's next fetch with it). `return()` stops the read and waits until it
 * has ended.
 */
export function pushToPull<T>(
  read: (push: (item: T) => Promise<void>, signal: AbortSignal) => Promise<void>,
  signal: AbortSignal,
  capacity = DOWNLOAD_QUEUE_ROWS,
): AsyncIterator<T> {
  const queue = new BoundedQueue<T>(capacity);
  const stop = new AbortController();
  const readSignal = AbortSignal.any([stop.signal, signal]);
  const push = async (item: T) => {
    // A stopped read just returns: readRanges sees the signal and ends.
    await queue.push(item, readSignal).catch(() => {});
  };
  const reading = read(push, readSignal).then(
    () => queue.end(readSignal.aborted ? readSignal.reason ?? new Error("download stopped") : undefined),
    (err: unknown) => queue.end(err ?? new Error("download read failed")),
  );
  const stopReading = async () => {
    stop.abort();
    queue.end();
    await reading;
  };
  return {
    next: async () => {
      try {
        return await queue.shift(readSignal);
      } catch (err) {
        await stopReading();
        throw err;
      }
    },
    return: async () => {
      await stopReading();
      return { done: true, value: undefined };
    },
  };
}
