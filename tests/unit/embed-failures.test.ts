import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { EmbeddingClient } from "../../lib/embedding";
import { createLogger } from "../../lib/log";
import { dlqRecordSchema } from "../../lib/records/dlq-record";
import { ReddbError } from "../../lib/reddb/client";
import { ReddbSink } from "../../workers/embed/reddb-sink";
import { MAX_UNIT_ATTEMPTS, UnitFailures, classifyFailure, splitUnits } from "../../workers/embed/failures";
import { Health } from "../../workers/embed/health";
import { ResilientEmbedder } from "../../workers/embed/resilient-embed";
import { WorkerStats } from "../../workers/embed/stats";
import { commitUnit, deadLetterUnit, transformUnit } from "../../workers/embed/unit-of-work";
import { inputMessage as message, recordingProducer, unitDeps as deps } from "./embed-unit-fixtures";

const kafkaError = (name: string, props: Record<string, unknown> = {}) => Object.assign(new Error(name), { name, ...props });
const sysError = (code: string) => Object.assign(new Error(code), { code });

describe("classifyFailure: what is waited out, what re-reads the limits, what counts against the records", () => {
  it.each([
    ["a refused connection", kafkaError("KafkaJSConnectionError", { retriable: true }), "transient"],
    ["a request timeout", kafkaError("KafkaJSRequestTimeoutError", { retriable: true }), "transient"],
    ["retries exhausted on a timeout", kafkaError("KafkaJSNumberOfRetriesExceeded", { retriable: false, originalError: kafkaError("KafkaJSRequestTimeoutError") }), "transient"],
    ["fenced (wrapped)", kafkaError("KafkaJSNonRetriableError", { retriable: false, originalError: kafkaError("KafkaJSProtocolError", { type: "INVALID_PRODUCER_EPOCH", retriable: false }) }), "transient"],
    ["a rebalance", kafkaError("KafkaJSProtocolError", { type: "REBALANCE_IN_PROGRESS", retriable: false }), "transient"],
    ["concurrent transactions", kafkaError("KafkaJSProtocolError", { type: "CONCURRENT_TRANSACTIONS", retriable: false }), "transient"],
    ["a full disk (Parquet)", sysError("ENOSPC"), "transient"],
    ["a refused socket", sysError("ECONNREFUSED"), "transient"],
    ["a timeout signal", Object.assign(new Error("timed out"), { name: "TimeoutError" }), "transient"],
    ["a record over the topic's limit", kafkaError("KafkaJSProtocolError", { type: "MESSAGE_TOO_LARGE", retriable: false }), "too_large"],
    ["a batch over the limit, wrapped", kafkaError("KafkaJSNonRetriableError", { originalError: kafkaError("KafkaJSProtocolError", { type: "RECORD_LIST_TOO_LARGE" }) }), "too_large"],
    ["a corrupt record", kafkaError("KafkaJSProtocolError", { type: "CORRUPT_MESSAGE", retriable: false }), "unclassified"],
    ["a bug", new TypeError("cannot read properties of undefined"), "unclassified"],
    ["a stack overflow", new RangeError("Maximum call stack size exceeded"), "unclassified"],
    ["not even an Error", "boom", "unclassified"],
  ])("%s → %s", (_what, err, kind) => {
    expect(classifyFailure(err)).toBe(kind);
  });
});

describe("UnitFailures: bounded retries, then one record at a time, then the DLQ", () => {
  it("retries a failing unit, isolates it, lets the good records through one by one and dead-letters the one that keeps failing", () => {
    const f = new UnitFailures();
    // Unit 100..199 fails for an unknown reason.
    for (let attempt = 1; attempt < MAX_UNIT_ATTEMPTS; attempt++) {
      expect(f.failed(0, "100", "199", "unclassified", "boom")).toEqual({ kind: "retry", attempt });
      expect(f.stalls()).toEqual([expect.objectContaining({ partition: 0, offset: "100", reason: expect.stringContaining("boom") })]);
    }
    expect(f.failed(0, "100", "199", "unclassified", "boom")).toEqual({ kind: "isolate", through: "199" });
    expect(f.isolateThrough(0)).toBe("199");
    expect(splitUnits(msgs(100, 205), 1000, f.isolateThrough(0)).map((u) => u.length)).toEqual([...Array(100).fill(1), 5]);

    // 100..149 commit one by one; 150 is the poison.
    for (let o = 100; o < 150; o++) f.succeeded(0, String(o));
    expect(f.isolateThrough(0)).toBe("199");
    for (let attempt = 1; attempt < MAX_UNIT_ATTEMPTS; attempt++) expect(f.failed(0, "150", "150", "unclassified", "boom").kind).toBe("retry");
    expect(f.failed(0, "150", "150", "unclassified", "boom")).toEqual({ kind: "dead_letter", offset: "150", reason: "unprocessable", attempts: MAX_UNIT_ATTEMPTS });
    f.succeeded(0, "150");
    // Still isolating up to 199, with a clean count for the next record.
    expect(f.isolateThrough(0)).toBe("199");
    expect(f.failed(0, "151", "151", "unclassified", "again").kind).toBe("retry");
    for (let o = 151; o <= 199; o++) f.succeeded(0, String(o));
    expect(f.isolateThrough(0)).toBeUndefined();
    expect(f.stalls()).toEqual([]);
  });

  it("never counts transient failures against the records, and a size refusal that persists dead-letters as too_large", () => {
    const f = new UnitFailures();
    for (let i = 0; i < 50; i++) expect(f.failed(1, "7", "7", "transient", "broker away")).toEqual({ kind: "wait" });
    expect(f.stalls()).toEqual([expect.objectContaining({ partition: 1, offset: "7", reason: "broker away" })]);
    for (let attempt = 1; attempt < MAX_UNIT_ATTEMPTS; attempt++) expect(f.failed(1, "7", "7", "too_large", "MESSAGE_TOO_LARGE").kind).toBe("retry");
    expect(f.failed(1, "7", "7", "too_large", "MESSAGE_TOO_LARGE")).toMatchObject({ kind: "dead_letter", reason: "too_large" });
    f.succeeded(1, "7");
    expect(f.stalls()).toEqual([]);
  });

  it("counts attempts per unit start: a partition that moved on starts again at one", () => {
    const f = new UnitFailures();
    f.failed(2, "0", "9", "unclassified", "x");
    f.failed(2, "0", "9", "unclassified", "x");
    f.succeeded(2, "9");
    expect(f.failed(2, "10", "19", "unclassified", "x")).toEqual({ kind: "retry", attempt: 1 });
  });
});

const msgs = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => ({ offset: String(from + i) }));

describe("ResilientEmbedder: an unknown failure is narrowed down to its text", () => {
  it("embeds the neighbours and gives the text that keeps failing `unprocessable`", async () => {
    const calls: string[][] = [];
    // Stands in for an embedding service whose answer for one text breaks the client in a way no rule covers.
    const client: EmbeddingClient = {
      provider: "test",
      model: "m",
      async embed(texts) {
        calls.push(texts);
        if (texts.includes("poison")) throw new TypeError("cannot read properties of undefined (reading 'embedding')");
        return { vectors: texts.map(() => [1, 0]), model: "m", dim: 2, attempts: 1, rttMs: 1, cacheHits: 0 };
      },
      close: async () => undefined,
    };
    const embedder = new ResilientEmbedder(client, new Health(), new WorkerStats(), createLogger("test", "silent"), { normalize: false, signal: new AbortController().signal });
    // No waiting between tries in a unit test.
    (embedder as unknown as { backoff: { wait: () => Promise<void>; reset: () => void } }).backoff = { wait: async () => undefined, reset: () => undefined };
    const out = await embedder.embed(["a", "b", "poison", "c"]);
    expect(out.map((o) => (o.ok ? "ok" : o.reason))).toEqual(["ok", "ok", "unprocessable", "ok"]);
    expect(out[2]).toMatchObject({ ok: false, attempts: 3, error: expect.stringContaining("cannot read properties") });
    // Bounded: the whole batch 3 times, then halves, then the text alone 3 times.
    expect(calls.filter((c) => c.length === 1 && c[0] === "poison")).toHaveLength(3);
  });
});


const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const range = (first: number, last: number) => ({ topic: "in", partition: 0, firstOffset: String(first), lastOffset: String(last) });

describe("commitUnit checks what it writes against the topics' limits", () => {
  it("dead-letters an embedding record that grows past the output topic's limit only once JSON-escaped, with its original, and writes its neighbours", async () => {
    const d = deps({}, 16 * 1024);
    // 4,000 control characters: 4 KB of text, ~24 KB once escaped.
    const hostile = JSON.stringify({ text: "\u0001".repeat(4000), doc_id: "escapes" });
    const messages = [message(0, JSON.stringify({ text: "fine", doc_id: "a" })), message(1, hostile, { headers: { "x-embedline-replay-count": "1", trace: Buffer.from([0xff]) } }), message(2, JSON.stringify({ text: "fine too", doc_id: "b" }))];
    const result = await transformUnit(d, "in", 0, messages);
    expect(result.rows).toHaveLength(3);
    const { producer, of } = recordingProducer();
    const committed = await commitUnit(d, producer, range(0, 2), result, () => true);
    expect(committed).toMatchObject({ rows: 2, dlq: 1 });
    expect(of("out").map((m) => m.key)).toEqual(["a", "b"]);
    const [dlq] = of("dlq");
    expect(dlq!.key).toBe("escapes");
    expect(String(dlq!.headers?.["x-embedline-replay-count"])).toBe("1");
    const record = dlqRecordSchema.parse(JSON.parse(dlq!.value));
    expect(record).toMatchObject({ reason: "too_large", stage: "embed", doc_id: "escapes", source: { topic: "in", partition: 0, offset: "1", timestamp: 1700000000 } });
    expect(record.error).toMatch(/max\.message\.bytes of 16384/);
    expect(record.original?.value).toEqual({ data: hostile, encoding: "utf8", size: Buffer.byteLength(hostile), sha256: sha(Buffer.from(hostile)), truncated: false });
    expect(record.original?.key?.data).toBe("k1");
    expect(record.original?.headers).toEqual([
      { key: "x-embedline-replay-count", value: expect.objectContaining({ data: "1", encoding: "utf8" }) },
      { key: "trace", value: expect.objectContaining({ data: Buffer.from([0xff]).toString("base64"), encoding: "base64" }) },
    ]);
  });

  it("withholds the original value with EMBED_STORE_TEXT=0, and keys a DLQ record with a long doc_id by nothing", async () => {
    const d = deps({ storeText: false });
    const longId = "d".repeat(3000);
    const value = JSON.stringify({ text: "   ", doc_id: longId });
    const { producer, of } = recordingProducer();
    await commitUnit(d, producer, range(5, 5), await transformUnit(d, "in", 0, [message(5, value)]), () => true);
    const [dlq] = of("dlq");
    expect(dlq!.key).toBeNull();
    const record = dlqRecordSchema.parse(JSON.parse(dlq!.value));
    expect(record).toMatchObject({ reason: "empty_text", doc_id: longId, text: null });
    expect(record.original?.value).toEqual({ data: null, encoding: "utf8", size: Buffer.byteLength(value), sha256: sha(Buffer.from(value)), truncated: false });
  });

  it("builds the DLQ record of a record that failed every attempt, even one whose bytes cannot be read", async () => {
    const d = deps();
    const bytes = Buffer.from([0x7b, 0xc3, 0x28, 0x7d]);
    const { producer, of } = recordingProducer();
    await commitUnit(d, producer, range(9, 9), deadLetterUnit(d, "in", 0, message(9, bytes), { reason: "unprocessable", error: "boom", attempts: 3 }), () => true);
    const record = dlqRecordSchema.parse(JSON.parse(of("dlq")[0]!.value));
    expect(record).toMatchObject({ reason: "unprocessable", attempts: 3, stage: "embed", source: { offset: "9" } });
    expect(Buffer.from(record.original!.value!.data!, "base64")).toEqual(bytes);
  });

  it("dead-letters for RedDB a record it refuses for good (its key), still writes it to Kafka, and waits out RedDB being away", async () => {
    const appendedDlq: unknown[] = [];
    let away = 2;
    const sink = {
      async write(records: Record<string, unknown>[], dlq: unknown[]) {
        if (away-- > 0) throw new Error("connect ECONNREFUSED");
        appendedDlq.push(...dlq);
        return records.flatMap((r, index) => (String(r.doc_id).length > 2000 ? [{ index, reason: "doc_id_too_long" as const, error: "RedDB PUT answered HTTP 414" }] : []));
      },
    };
    const writeWithRetry = async <T,>(fn: () => Promise<T>): Promise<T> => {
      for (;;) {
        try {
          return await fn();
        } catch {
          // Waited out (index.ts backs off here).
        }
      }
    };
    const d = deps({ reddb: { sink: sink as never, writeWithRetry } });
    const longId = "x".repeat(3000);
    const messages = [message(0, JSON.stringify({ text: "short id", doc_id: "ok" })), message(1, JSON.stringify({ text: "long id", doc_id: longId }))];
    const { producer, of } = recordingProducer();
    const committed = await commitUnit(d, producer, range(0, 1), await transformUnit(d, "in", 0, messages), () => true);
    expect(committed).toMatchObject({ rows: 2, dlq: 1 });
    expect(of("out").map((m) => m.key)).toEqual(["ok", longId]);
    expect(JSON.parse(of("dlq")[0]!.value)).toMatchObject({ reason: "doc_id_too_long", doc_id: longId, error: expect.stringContaining("RedDB PUT answered HTTP 414") });
    // RedDB's DLQ stream gets the same record.
    expect(appendedDlq).toEqual([JSON.parse(of("dlq")[0]!.value)]);
  });
});

describe("ReddbSink: a refusal no retry changes is the record's, anything else is waited out", () => {
  const sinkFailingWith = (err: unknown) =>
    new ReddbSink(
      {
        putKv: async (_ns: string, key: string) => {
          if (key.endsWith("bad")) throw err;
        },
        append: async () => 0,
      } as never,
      { url: "http://reddb", namespace: "ns", mode: "both", stream: "s", dlqStream: "dlq" } as never,
    );
  const records = [{ doc_id: "good" }, { doc_id: "bad" }];
  it.each([
    ["414 URI Too Long", new ReddbError(414, "RedDB PUT answered HTTP 414"), "doc_id_too_long"],
    ["400 naming the key", new ReddbError(400, "RedDB PUT answered HTTP 400: key over the maximum key size"), "doc_id_too_long"],
    ["413 body too large", new ReddbError(413, "RedDB PUT answered HTTP 413"), "unprocessable"],
    ["422", new ReddbError(422, "RedDB PUT answered HTTP 422"), "unprocessable"],
  ])("%s → dead-letter as %s", async (_what, err, reason) => {
    expect(await sinkFailingWith(err).write(records, [], AbortSignal.timeout(1000))).toEqual([{ index: 1, reason, error: err.message }]);
  });
  it.each([
    ["500", new ReddbError(500, "x")],
    ["503", new ReddbError(503, "x")],
    ["408", new ReddbError(408, "x")],
    ["429", new ReddbError(429, "x")],
    ["401 (a token to fix)", new ReddbError(401, "x")],
    ["a refused connection", sysError("ECONNREFUSED")],
  ])("%s → thrown, to be waited out", async (_what, err) => {
    await expect(sinkFailingWith(err).write(records, [], AbortSignal.timeout(1000))).rejects.toBe(err);
  });
});
