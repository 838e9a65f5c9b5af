/**
 * The emb-indexer's POST /knn/query over a real socket, on a real index (LMDB +
 * HNSW graph in a temp dir): exact scans are bounded (one running, a short
 * line, then 429 rate_limited with Retry-After), HNSW queries are not held up
 * by them, and vectors without a usable norm get 422 invalid_request naming
 * the cause. The running scan is stood for by the test taking the gate's one
 * slot itself, so the line fills deterministically, without timing.
 */
import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EfTuner } from "@/lib/index/ef-tuner";
import { RecallMonitor } from "@/lib/index/recall-monitor";
import { VectorIndex } from "@/lib/index/vector-index";
import { ApiError } from "@/lib/http/api-error";
import { createLogger } from "@/lib/log";
import { proxied } from "@/lib/upstreams/errors";
import { upstreamJson } from "@/lib/upstreams/http";
import { ExactQueryGate } from "../../workers/indexer/exact-gate";
import { createIndexerServer } from "../../workers/indexer/http";
import { IndexerMetrics } from "../../workers/indexer/metrics";
import { waitFor } from "../harness/wait-for";

const DIM = 16;
const DOCS = 2000;
const spread = (i: number) => Array.from({ length: DIM }, (_, d) => Math.sin(i * 1.7 + d * 2.3) + 0.3 * Math.cos(i * 0.37 * (d + 1)));

let dir: string;
let index: VectorIndex;
let server: Server;
let base: string;
const gate = new ExactQueryGate({ concurrency: 1, queue: 1 });

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "index-exact-bound-"));
  index = VectorIndex.open({ dir, shards: 4, maxIdsPerShard: 0, hnsw: { connectivity: 16, efAdd: 64, efSearch: 32 } }).index;
  for (let from = 0; from < DOCS; from += 500) {
    const records = Array.from({ length: 500 }, (_, j) => ({
      offset: from + j,
      record: { topic: "t", text: "x", doc_id: `doc-${from + j}`, vector: spread(from + j), kafka_ts: 1, embedded_ts: 100, model: "m", dim: DIM, normalized: false },
    }));
    index.apply("embeddings", 0, records, from + 500);
  }
  server = createIndexerServer({
    index,
    metrics: new IndexerMetrics(),
    recall: new RecallMonitor(index, 10, new EfTuner(32, 256, 0.95)),
    embedText: () => Promise.reject(new Error("no text queries in this test")),
    log: createLogger("test", "silent"),
    health: () => ({ httpStatus: 200, body: { status: "ok" } }),
    exactGate: gate,
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await index.close();
  rmSync(dir, { recursive: true, force: true });
});

async function query(body: unknown): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const res = await fetch(`${base}/knn/query`, { method: "POST", headers: { "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

const errorOf = (r: { json: Record<string, unknown> }) => r.json.error as { code: string; message: string };

describe("emb-indexer: exact kNN is bounded", () => {
  it("one scan runs, one waits, the next is refused with 429 and Retry-After; HNSW queries pass meanwhile; then exact succeeds", async () => {
    const release = await gate.enter(); // a scan in progress
    try {
      const waiting = query({ doc_id: "doc-1", k: 5, exact: true });
      await waitFor("the exact query in line", () => gate.state.waiting === 1);

      const refused = await query({ doc_id: "doc-2", k: 5, exact: true });
      expect(refused.status).toBe(429);
      expect(errorOf(refused)).toMatchObject({ code: "rate_limited", message: expect.stringMatching(/too many exact kNN scans/) });
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);

      // Through the console's upstream client the 429 keeps its code and Retry-After (app/api/knn/query passes it on).
      const viaConsole = await proxied("indexer", () => upstreamJson(`${base}/knn/query`, { method: "POST", body: { doc_id: "doc-2", exact: true } })).catch((err: unknown) => err);
      expect(viaConsole).toBeInstanceOf(ApiError);
      expect(viaConsole).toMatchObject({ status: 429, code: "rate_limited", headers: { "retry-after": refused.headers.get("retry-after") } });

      // A filter nothing matches makes the graph search fall back to a scan: it is held to the same line.
      const filtered = await query({ doc_id: "doc-3", k: 5, topic: "no-such-topic" });
      expect(filtered.status).toBe(429);

      // A scan of fewer than 1000 vectors (one shard of four here) costs about a graph search: not held up.
      const small = await query({ vector: spread(1), k: 5, exact: true, shards: [0] });
      expect(small.status).toBe(200);
      expect(small.json.count_scored).toBeLessThan(1000);

      // The graph answers other queries without waiting for the scans.
      const approx = await query({ doc_id: "doc-4", k: 5 });
      expect(approx.status).toBe(200);
      expect(approx.json.mode).toBe("hnsw");

      release();
      const served = await waiting;
      expect(served.status).toBe(200);
      expect(served.json).toMatchObject({ mode: "exact", count_scored: DOCS });
    } finally {
      release();
    }
    const again = await query({ doc_id: "doc-2", k: 5, exact: true, include_self: true });
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ mode: "exact", neighbors: expect.arrayContaining([expect.objectContaining({ doc_id: "doc-2" })]) });
    expect(gate.state).toEqual({ running: 0, waiting: 0 });
    const metrics = (await (await fetch(`${base}/metrics`)).json()) as { exact_scans: unknown };
    expect(metrics.exact_scans).toEqual({ running: 0, waiting: 0, refused: 3 });
  });

  it("a client that leaves while in line gives its place up", async () => {
    const release = await gate.enter();
    const aborter = new AbortController();
    const leaving = fetch(`${base}/knn/query`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ doc_id: "doc-5", exact: true }), signal: aborter.signal }).catch((err: unknown) => err);
    await waitFor("the exact query in line", () => gate.state.waiting === 1);
    aborter.abort();
    await leaving;
    await waitFor("the line empty again", () => gate.state.waiting === 0);
    release();
    expect(gate.state).toEqual({ running: 0, waiting: 0 });
  });
});

describe("emb-indexer: query vectors without a usable norm", () => {
  const v = (fill: number) => new Array<number>(DIM).fill(fill);
  it.each([
    ["all zeros", v(0), /vector is all zeros/],
    ["finite values whose norm overflows (1e200)", v(1e200), /^vector norm is not finite \(values too large\)$/],
    ["two values near the largest double", [1.7e308, 1.7e308, ...v(0).slice(2)], /norm is not finite/],
    ["values whose norm underflows (1e-200)", v(1e-200), /norm underflows to 0 \(values too small\)/],
    ["all zeros, exact", v(0), /vector is all zeros/, true],
  ])("%s → 422 invalid_request naming the cause", async (_what, vector, message, exact = false) => {
    const r = await query({ vector, k: 3, exact });
    expect(r.status).toBe(422);
    expect(errorOf(r).code).toBe("invalid_request");
    expect(errorOf(r).message).toMatch(message);
  });

  it("large but representable values are fine (norm ≈ 1e150·4)", async () => {
    const r = await query({ vector: spread(7).map((x) => x * 1e150), k: 1, exact: true });
    expect(r.status).toBe(200);
    expect((r.json.neighbors as { doc_id: string; score: number }[])[0]).toMatchObject({ doc_id: "doc-7" });
    expect((r.json.neighbors as { score: number }[])[0]!.score).toBeCloseTo(1, 4);
  });
});
