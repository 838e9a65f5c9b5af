/**
 * The embed-worker as a real process against the test broker and an instant
 * InferMesh test double: bad input ends in the DLQ with the right reason while
 * the good records around it flow on; operator endpoints; privacy switch.
 */
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../lib/records/sha256";
import { embeddingRecordSchema } from "../../lib/records/embedding-record";
import { NAN_MARKER, REJECT_MARKER, SHORT_MARKER } from "../doubles/instant-infermesh";
import { inputRecord, startWorker } from "../harness/embed-worker";
import { getJson } from "../harness/http";
import { waitUntilConsumed } from "../harness/kafka-topics";
import { readParquetDir } from "../harness/parquet";
import { produce, produceTransaction } from "../harness/produce";
import { readCommitted } from "../harness/read-topic";
import { waitFor } from "../harness/wait-for";
import { embedWorkerSuite } from "./embed-worker-suite";

const suite = embedWorkerSuite("embed-worker-test");
const { kafka, workers } = suite;

async function setup(env: Record<string, string> = {}) {
  const t = await suite.topics();
  const parquetDir = suite.tmpDir("embed-parquet-");
  return { ...t, parquetDir, workerEnv: suite.workerEnv(t, { EMBED_PARQUET_DIR: parquetDir, EMBED_MAX_TEXT_BYTES: "1024", ...env }) };
}

describe("embed-worker", () => {
  it("sends each kind of bad input to the DLQ with its reason, and embeds the good records around it", async () => {
    const t = await setup();
    const cases: { value: string | Buffer | null; expect: string; replayCount?: string }[] = [
      { value: inputRecord(0), expect: "ok" },
      { value: "{not json", expect: "invalid_json" },
      { value: JSON.stringify(["an", "array"]), expect: "invalid_json" },
      { value: JSON.stringify({ text: 42, doc_id: "n" }), expect: "invalid_json" },
      { value: JSON.stringify({ topic: "t", doc_id: "no-text" }), expect: "empty_text" },
      { value: JSON.stringify({ text: "  \n\t ", doc_id: "blank" }), expect: "empty_text" },
      { value: null, expect: "empty_text" },
      { value: JSON.stringify({ text: "x".repeat(1025), doc_id: "big" }), expect: "text_too_large" },
      // 1 MB of text: just under the broker's default message size limit.
      { value: JSON.stringify({ text: "a".repeat(1_000_000), doc_id: "1mb" }), expect: "text_too_large" },
      { value: Buffer.from([0xff, 0xfe, 0x00, 0x81, 0xc3]), expect: "invalid_unicode" },
      { value: JSON.stringify({ text: `please ${REJECT_MARKER} this`, doc_id: "rejected" }), expect: "provider_rejected" },
      { value: JSON.stringify({ text: `a ${NAN_MARKER} vector`, doc_id: "nan" }), expect: "bad_vector" },
      { value: JSON.stringify({ text: `a ${SHORT_MARKER} vector`, doc_id: "short" }), expect: "bad_vector" },
      // Redriven twice by the console and failing again: the DLQ message keeps its count.
      { value: JSON.stringify({ text: `still ${REJECT_MARKER}`, doc_id: "redriven" }), expect: "provider_rejected", replayCount: "2" },
      { value: JSON.stringify({ text: "redriven and fine now", doc_id: "redriven-ok" }), expect: "ok", replayCount: "1" },
      { value: Buffer.from("\u0000\u0001\u0002 binary-looking but valid UTF-8 \u007f", "utf8"), expect: "invalid_json" },
      { value: JSON.stringify({ text: "Grüße, 世界 — naïve café 🙂👩‍👩‍👧", doc_id: "unicode" }), expect: "ok" },
      { value: JSON.stringify({ text: "duplicate doc id, first", doc_id: "dup" }), expect: "ok" },
      { value: JSON.stringify({ text: "duplicate doc id, second", doc_id: "dup" }), expect: "ok" },
      { value: JSON.stringify({ text: "no doc id at all" }), expect: "ok" },
      { value: inputRecord(1), expect: "ok" },
    ];
    // One partition key for all, so the good ones share batches with the bad ones.
    const replayHeader = (i: number) => (cases[i]!.replayCount ? { "x-embedline-replay-count": cases[i]!.replayCount! } : undefined);
    await produce(kafka, t.input, cases.map((c) => c.value), () => "same-key", replayHeader);
    workers.push(await startWorker(t.workerEnv));
    await waitUntilConsumed(kafka, t.group, t.input);

    const out = await readCommitted(kafka, t.output);
    const dlq = await readCommitted(kafka, t.dlq);
    const good = cases.filter((c) => c.expect === "ok").length;
    expect(out).toHaveLength(good);
    expect(dlq.map((d) => d.value.reason).sort()).toEqual(cases.filter((c) => c.expect !== "ok").map((c) => c.expect).sort());
    for (const d of dlq) {
      expect(d.value).toMatchObject({ source: { topic: t.input, partition: expect.any(Number), offset: expect.stringMatching(/^\d+$/) } });
      expect(String(d.value.error)).not.toMatch(/\n/);
    }
    expect(dlq.find((d) => d.value.doc_id === "rejected")?.value).toMatchObject({ reason: "provider_rejected", attempts: 1, model: "all-MiniLM-L6-v2" });
    expect(dlq.find((d) => d.value.doc_id === "short")?.value.error).toMatch(/383 dimensions, expected 384/);
    // The input's own id stays on the DLQ record whatever is wrong with the text.
    for (const id of ["no-text", "blank", "big", "1mb"]) expect(dlq.filter((d) => d.value.doc_id === id)).toHaveLength(1);
    // Blank text stays on its record, so the console can redrive it; an oversized one does not.
    expect(dlq.find((d) => d.value.doc_id === "blank")?.value.text).toBe("  \n\t ");
    expect(dlq.find((d) => d.value.doc_id === "1mb")?.value.text).toBeNull();
    expect(dlq.find((d) => d.value.doc_id === "redriven")?.headers["x-embedline-replay-count"]).toBe("2");
    expect(dlq.filter((d) => d.headers["x-embedline-replay-count"] !== undefined)).toHaveLength(1);
    for (const o of out) {
      expect(embeddingRecordSchema.safeParse(o.value).success).toBe(true);
      expect(o.value.dim).toBe(384);
      expect(o.value.vector).toHaveLength(384);
      expect(o.value.normalized).toBe(false);
      expect(o.key).toBe(o.value.doc_id);
    }
    expect(out.filter((o) => o.value.doc_id === "dup")).toHaveLength(2);
    const derived = out.find((o) => o.value.text === "no doc id at all");
    expect(derived?.value.doc_id).toBe(sha256Hex("no doc id at all"));
    expect(out.find((o) => o.value.doc_id === "unicode")?.value.text).toBe("Grüße, 世界 — naïve café 🙂👩‍👩‍👧");

    const rows = readParquetDir(t.parquetDir);
    expect(rows.map((r) => r.doc_id).sort()).toEqual(out.map((o) => o.value.doc_id).sort());
  });

  it("normalises on request, keeps text out of every sink with EMBED_STORE_TEXT=0, and serves its operator endpoints", async () => {
    const t = await setup({ EMBED_NORMALIZE: "1", EMBED_STORE_TEXT: "0", EMBED_CONTROL_TOKEN: "control-secret", INFERMESH_API_KEY: "embed-secret" });
    const worker = await startWorker(t.workerEnv);
    workers.push(worker);

    const denied = await fetch(`${worker.metricsUrl}/pause`, { method: "POST" });
    expect(denied.status).toBe(401);
    const auth = { authorization: "Bearer control-secret" };
    expect(await getJson(`${worker.metricsUrl}/pause`, { method: "POST", headers: auth })).toEqual({ ok: true, paused: true });
    const producedAt = Date.now();
    await produce(kafka, t.input, Array.from({ length: 20 }, (_, i) => inputRecord(i)));
    expect((await getJson(`${worker.metricsUrl}/health`)).paused).toBe(true);
    expect(await getJson(`${worker.metricsUrl}/resume`, { method: "POST", headers: auth })).toEqual({ ok: true, paused: false });
    await waitUntilConsumed(kafka, t.group, t.input);

    const out = await readCommitted(kafka, t.output);
    expect(out).toHaveLength(20);
    for (const o of out) {
      expect(embeddingRecordSchema.safeParse(o.value).success).toBe(true);
      expect(o.value.text).toBeUndefined();
      expect(o.value.text_sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(o.value.normalized).toBe(true);
      const v = o.value.vector as number[];
      expect(Math.hypot(...v)).toBeCloseTo(1, 5);
    }
    const rows = readParquetDir(t.parquetDir);
    expect(rows).toHaveLength(20);
    expect(rows[0]).not.toHaveProperty("text");
    expect(rows[0]?.text_len).toBe(String(JSON.parse(inputRecord(0)).text).length);

    const metrics = await getJson(`${worker.metricsUrl}/metrics`);
    expect(metrics).toMatchObject({ records_in: 20, records_out: 20, dlq_records: 0, infermesh_failures: 0, lag: 0 });
    for (const k of ["started_ts", "batches", "last_flush_ts", "last_infermesh_rtt_ms", "total_infermesh_calls", "batch_size_avg", "cache"]) expect(metrics).toHaveProperty(k);
    // The embed stage's latency: each input record's Kafka timestamp to its commit, the pause included.
    const stage = metrics.stage_window as { records: number; samples: number; p50_ms: number; p99_ms: number };
    expect(stage).toMatchObject({ records: 20, samples: 20, window_sec: 60 });
    expect(stage.p50_ms).toBeGreaterThan(0);
    expect(stage.p99_ms).toBeLessThanOrEqual(Date.now() - producedAt);
    const prom = await (await fetch(`${worker.metricsUrl}/metrics/prometheus`)).text();
    expect(prom).toMatch(/^embedline_embed_worker_records_out_total 20$/m);
    expect(prom).toMatch(/^embedline_embed_worker_embed_duration_seconds_count \d+$/m);
    expect((await fetch(`${worker.metricsUrl}/config`)).status).toBe(401);
    const config = JSON.stringify(await getJson(`${worker.metricsUrl}/config`, { headers: auth }));
    expect(config).not.toContain("control-secret");
    expect(config).not.toContain("embed-secret");
    expect(config).toContain(t.input);

    // Transactional input, as the parse stage writes it: a committed
    // transaction (its marker after the last record), then an aborted one (a
    // fetch of only aborted records and a marker, which never reaches
    // eachBatch). The group commits past both markers, so it ends with
    // committed == end, and Kafka's own tools show lag 0 (KAFKA-6607).
    await produceTransaction(kafka, t.input, 0, [inputRecord(20), inputRecord(21)], "commit");
    await waitUntilConsumed(kafka, t.group, t.input);
    await produceTransaction(kafka, t.input, 0, [inputRecord(22)], "abort");
    await waitUntilConsumed(kafka, t.group, t.input);
    expect(await getJson(`${worker.metricsUrl}/metrics`)).toMatchObject({ records_in: 22, records_out: 22, lag: 0 });

    expect(await worker.terminate()).toBe(0);
  });

  it("two workers in one group split the partitions and together lose and duplicate nothing", async () => {
    const t = await setup();
    const a = await startWorker(t.workerEnv);
    const b = await startWorker(t.workerEnv);
    workers.push(a, b);
    await waitFor("the two workers to share the 3 partitions", async () => {
      const assigned = await Promise.all([a, b].map(async (w) => (await getJson(`${w.metricsUrl}/metrics`)).assigned_partitions as number[]));
      return assigned.every((p) => p.length > 0) && assigned.flat().length === 3;
    }, 60_000);
    const n = 3000;
    await produce(kafka, t.input, Array.from({ length: n }, (_, i) => inputRecord(i)));
    await waitUntilConsumed(kafka, t.group, t.input);
    const [ma, mb] = [await getJson(`${a.metricsUrl}/metrics`), await getJson(`${b.metricsUrl}/metrics`)];
    expect(Number(ma.records_in)).toBeGreaterThan(0);
    expect(Number(mb.records_in)).toBeGreaterThan(0);

    const out = await readCommitted(kafka, t.output);
    expect(new Set(out.map((o) => o.value.doc_id)).size).toBe(n);
    expect(out).toHaveLength(n);
    const rows = readParquetDir(t.parquetDir);
    expect(new Set(rows.map((r) => `${r.source_partition}:${r.source_offset}`)).size).toBe(n);
    expect(rows).toHaveLength(n);
    await waitFor("both workers to stop cleanly", async () => (await Promise.all([a.terminate(), b.terminate()])).every((c) => c === 0), 30_000);
  });
});
