/**
 * The download's stream mechanics (DLQ files, topic exports), without Kafka: a reader pushing entries
 * as fast as it may (as readRanges' callback does) never gets more than a
 * bounded number of rows ahead of a slow client; the whole download has a
 * deadline that fails the stream (never a short file) with one log line; at
 * most two downloads run at once; the reader is released exactly once on
 * every path (end, client abort, deadline, error). The real-broker side is in
 * tests/integration/dlq-console.test.ts.
 */
import pino from "pino";
import { describe, expect, it } from "vitest";
import { dlqRows } from "@/lib/dlq/csv";
import { BoundedQueue } from "@/lib/download/bounded-queue";
import {
  DOWNLOAD_QUEUE_ROWS,
  DownloadDeadlineError,
  MAX_CONCURRENT_DOWNLOADS,
  acquireDownloadSlot,
  downloadStats,
  downloadStream,
  pushToPull,
  type OpenItems,
} from "@/lib/download/stream";
import { toDlqItem, type DlqItem } from "@/lib/dlq/item";
import { ApiError } from "@/lib/http/api-error";
import { waitFor } from "../harness/wait-for";

const topics = { parse: "agent.results.dlq", embed: "embeddings_dlq", embeddings: "embeddings" };
const entry = (n: number): DlqItem =>
  toDlqItem({ kind: "kafka", topic: topics.embed, partition: 0, offset: String(n) }, { doc_id: `d${n}`, reason: "empty_text", error: "e", attempts: 1, ts: 1_700_000_000 + n, text: "t", stage: "embed" }, "", null, topics);

/** A real pino logger writing into an array, to count the lines a download logs. */
function capturedLog() {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: "debug" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { lines, log: () => logger };
}

/**
 * A reader shaped like readRanges: pushes `total` entries as fast as `push`
 * lets it, and records how far it ever got ahead of the rows the client read.
 */
function fastReader(total: number, client: { read: number }) {
  const seen = { pushed: 0, maxLead: 0, waiting: false, stopped: false, released: 0 };
  const open: OpenItems<DlqItem> = (signal) =>
    pushToPull(async (push, readSignal) => {
      try {
        for (let n = 0; n < total && !readSignal.aborted; n++) {
          seen.maxLead = Math.max(seen.maxLead, seen.pushed - client.read);
          seen.waiting = true;
          await push(entry(n));
          seen.waiting = false;
          if (!readSignal.aborted) seen.pushed += 1;
        }
      } finally {
        seen.stopped = readSignal.aborted;
        seen.released += 1;
      }
    }, signal);
  return { seen, open };
}

const lines = (chunk: Uint8Array) => new TextDecoder().decode(chunk).split("\n").filter(Boolean).length;

describe("bounded hand-off", () => {
  it.each([1, 4, DOWNLOAD_QUEUE_ROWS])("capacity %i: a pusher waits once the queue is full, and goes on when the puller takes one", async (capacity) => {
    const q = new BoundedQueue<number>(capacity);
    const signal = new AbortController().signal;
    for (let i = 0; i < capacity; i++) await q.push(i, signal);
    let pushed = false;
    const blocked = q.push(capacity, signal).then(() => (pushed = true));
    await Promise.resolve();
    expect(pushed).toBe(false);
    expect(q.size).toBe(capacity);
    expect(await q.shift(signal)).toEqual({ done: false, value: 0 });
    await blocked;
    expect(q.size).toBe(capacity);
  });

  it("a pusher waiting on a slow puller stops when its signal aborts", async () => {
    const q = new BoundedQueue<number>(1);
    const abort = new AbortController();
    await q.push(0, abort.signal);
    const blocked = q.push(1, abort.signal);
    await Promise.resolve();
    abort.abort();
    await expect(blocked).rejects.toThrow();
    expect(q.size).toBe(1);
  });

  it("ending with an error reaches the puller after the queued items", async () => {
    const q = new BoundedQueue<number>(2);
    const signal = new AbortController().signal;
    await q.push(1, signal);
    q.end(new Error("broker gone"));
    expect(await q.shift(signal)).toEqual({ done: false, value: 1 });
    await expect(q.shift(signal)).rejects.toThrow("broker gone");
  });
});

describe("download stream", () => {
  it("backpressure: a slow client never has more than the two bounded queues' rows read ahead of it", async () => {
    const client = { read: 0 };
    const total = 2_000;
    const { seen, open } = fastReader(total, client);
    let closed = 0;
    const { log } = capturedLog();
    const reader = downloadStream(open, { ...dlqRows("jsonl"), signal: new AbortController().signal, log, onClose: () => void (closed += 1) }).getReader();
    // The bound: the response stream's queue, the hand-off queue, and the one row a pending pull holds.
    const bound = 2 * DOWNLOAD_QUEUE_ROWS + 1;
    for (;;) {
      // Let the reader run as far ahead as it can before each read: it must stall at the bound, never reach the end.
      if (client.read % 250 === 0 && client.read + bound < total) await waitFor("the reader to stall behind the slow client", () => seen.waiting && seen.pushed - client.read >= bound - 1, 10_000, 5);
      const { done, value } = await reader.read();
      if (done) break;
      client.read += lines(value);
    }
    expect(client.read).toBe(total);
    expect(seen.maxLead).toBeLessThanOrEqual(bound);
    expect(seen.maxLead).toBeGreaterThanOrEqual(DOWNLOAD_QUEUE_ROWS);
    expect(closed).toBe(1);
    expect(seen.released).toBe(1);
  });

  it("CSV: the header first, then one row per entry", async () => {
    const { open } = fastReader(3, { read: 0 });
    const text = await new Response(downloadStream(open, { ...dlqRows("csv"), signal: new AbortController().signal, log: capturedLog().log })).text();
    const rows = text.trim().split("\r\n");
    expect(rows[0]).toMatch(/^id,ts,reason,/);
    expect(rows).toHaveLength(4);
  });

  it("client abort midway: the reader is stopped and released, close runs once", async () => {
    const client = { read: 0 };
    const { seen, open } = fastReader(10_000, client);
    const gone = new AbortController();
    let closed = 0;
    const reader = downloadStream(open, { ...dlqRows("jsonl"), signal: gone.signal, log: capturedLog().log, onClose: () => void (closed += 1) }).getReader();
    client.read += lines((await reader.read()).value!);
    gone.abort();
    await reader.cancel();
    await waitFor("the download to close", () => closed > 0, 5_000, 5);
    expect(seen).toMatchObject({ stopped: true, released: 1 });
    expect(seen.pushed).toBeLessThan(10_000);
    expect(closed).toBe(1);
  });

  it.each([
    { name: "a client still reading (a pull is pending on a source that has nothing yet)", reading: true },
    { name: "a client that stopped reading (rows queued, no pull pending)", reading: false },
  ])("deadline, $name: the stream errors, one log line, the reader released", async ({ reading }) => {
    const { lines: logged, log } = capturedLog();
    let released = 0;
    let closed = 0;
    const open: OpenItems<DlqItem> = (signal) =>
      pushToPull(async (push, readSignal) => {
        try {
          if (!reading) for (let n = 0; n < 10_000 && !readSignal.aborted; n++) await push(entry(n));
          // A source with nothing more to give until its signal aborts (a quiet topic, a stalled broker).
          await new Promise<void>((resolve) => (readSignal.aborted ? resolve() : readSignal.addEventListener("abort", () => resolve(), { once: true })));
        } finally {
          released += 1;
        }
      }, signal);
    const body = downloadStream(open, { ...dlqRows("jsonl"), signal: new AbortController().signal, log, deadlineMs: 150, onClose: () => void (closed += 1) });
    if (reading) await expect(new Response(body).text()).rejects.toThrow(DownloadDeadlineError);
    else {
      await waitFor("the download to close at its deadline", () => closed > 0, 5_000, 5);
      await expect(body.getReader().read()).rejects.toThrow(/deadline/);
    }
    await waitFor("the reader released", () => released === 1, 5_000, 5);
    expect(closed).toBe(1);
    expect(logged.filter((l) => /deadline/.test(l.msg))).toHaveLength(1);
  });

  it("a reader that fails midway fails the download (not a short file) and is released", async () => {
    const { lines: logged, log } = capturedLog();
    let closed = 0;
    const open: OpenItems<DlqItem> = (signal) =>
      pushToPull(async (push) => {
        for (let n = 0; n < 3; n++) await push(entry(n));
        throw new Error("broker connection lost");
      }, signal);
    const body = downloadStream(open, { ...dlqRows("jsonl"), signal: new AbortController().signal, log, onClose: () => void (closed += 1) });
    await expect(new Response(body).text()).rejects.toThrow("broker connection lost");
    expect(closed).toBe(1);
    expect(logged.filter((l) => l.msg === "download failed midway")).toHaveLength(1);
  });
});

describe("concurrent downloads", () => {
  it(`at most ${MAX_CONCURRENT_DOWNLOADS} at once: one more is 429 rate_limited with Retry-After; a release frees a slot once`, async () => {
    const before = downloadStats().active;
    const held = Array.from({ length: MAX_CONCURRENT_DOWNLOADS - before }, () => acquireDownloadSlot());
    const refused = (() => {
      try {
        acquireDownloadSlot();
      } catch (err) {
        return err;
      }
    })();
    expect(refused).toBeInstanceOf(ApiError);
    const res = (refused as ApiError).toResponse();
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await res.json()).toMatchObject({ error: { code: "rate_limited", message: expect.stringMatching(/at most 2 at once/) } });
    held[0]!();
    held[0]!();
    expect(downloadStats().active).toBe(MAX_CONCURRENT_DOWNLOADS - 1);
    const again = acquireDownloadSlot();
    expect(() => acquireDownloadSlot()).toThrow(ApiError);
    for (const release of [again, ...held.slice(1)]) release();
    expect(downloadStats().active).toBe(before);
  });
});
