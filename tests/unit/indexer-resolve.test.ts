/**
 * The emb-indexer's POST /knn/resolve and the group fields of its answers,
 * over a real socket on a real index (LMDB + graph in a temp dir). Text is
 * embedded by a stand-in for the embedding client (a function from text to a
 * vector chosen per text): what is under test is what the indexer does with
 * the vector, not the model.
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
import { createLogger } from "@/lib/log";
import { createIndexerServer } from "../../workers/indexer/http";
import { IndexerMetrics } from "../../workers/indexer/metrics";
import { PartitionOwnership } from "../../workers/indexer/ownership";

const DIM = 8;
const TOPIC = "embeddings";
const vectorOf = (i: number) => Array.from({ length: DIM }, (_, d) => Math.sin(i * 1.3 + d * 0.7) + (d === i % DIM ? 2 : 0));
const norm = (v: readonly number[]) => Math.hypot(...v);

/** Stand-in for the embedding client: each test text names the vector it embeds to. */
const EMBEDDED: Record<string, number[]> = {
  "like doc 3": vectorOf(3).map((x) => x * 10),
  "three dims": [1, 2, 3],
  "no direction": Array.from({ length: DIM }, () => 0),
};
const embedText = async (text: string) => EMBEDDED[text] ?? Promise.reject(new Error(`unexpected text ${text}`));

let dir: string;
let index: VectorIndex;
let server: Server;
let base: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "indexer-resolve-"));
  index = VectorIndex.open({ dir, shards: 4, maxIdsPerShard: 0, hnsw: { connectivity: 16, efAdd: 64, efSearch: 32 } }).index;
  const records = Array.from({ length: 20 }, (_, i) => ({
    offset: i,
    record: { topic: "t", text: `text ${i}`, doc_id: `doc-${i}`, vector: vectorOf(i), kafka_ts: 1, embedded_ts: 100, model: "m", dim: DIM, normalized: false },
  }));
  index.apply(TOPIC, 2, records, 20);
  const ownership = new PartitionOwnership((p) => index.nextOffset(TOPIC, p) ?? 0);
  ownership.assign([2, 5]);
  ownership.setEnd(2, 20);
  ownership.setEnd(5, 7);
  server = createIndexerServer({
    index,
    metrics: new IndexerMetrics(),
    recall: new RecallMonitor(index, 10, new EfTuner(32, 256, 0.95)),
    embedText,
    log: createLogger("test", "silent"),
    health: () => ({ httpStatus: 200, body: { status: "ok" } }),
    model: "m",
    group: { instance: "idx-test", ownership },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await index.close();
  rmSync(dir, { recursive: true, force: true });
});

async function post(route: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}${route}`, { method: "POST", headers: { "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe("emb-indexer: POST /knn/resolve", () => {
  it.each([
    ["a doc_id it holds", { doc_id: "doc-3" }, vectorOf(3)],
    ["a text", { text: "like doc 3" }, vectorOf(3)],
  ])("turns %s into the unit vector", async (_what, body, direction) => {
    const r = await post("/knn/resolve", body);
    expect(r.status).toBe(200);
    const { vector, dim, model } = r.json as { vector: number[]; dim: number; model: string };
    expect(dim).toBe(DIM);
    expect(model).toBe("m");
    expect(norm(vector)).toBeCloseTo(1, 5);
    // Stored as f16 or i8 in memory, so close to the direction, not equal bit for bit.
    direction.forEach((x, d) => expect(vector[d]).toBeCloseTo(x / norm(direction), 2));
  });

  it.each([
    ["a doc_id it does not hold", { doc_id: "doc-999" }, 404, "unknown_doc_id"],
    ["a text embedded to another dimension", { text: "three dims" }, 409, "model_mismatch"],
    ["a text embedded to a vector without a direction", { text: "no direction" }, 502, "upstream_failed"],
    ["neither doc_id nor text", {}, 422, "invalid_request"],
    ["both doc_id and text", { doc_id: "doc-3", text: "like doc 3" }, 422, "invalid_request"],
    ["a vector (the console sends vectors to /knn/query)", { vector: vectorOf(1) }, 422, "invalid_request"],
    ["an empty text", { text: "   " }, 422, "invalid_request"],
    ["a doc_id that is not a string", { doc_id: 3 }, 422, "invalid_request"],
  ])("answers %s with %i", async (_what, body, status, code) => {
    const r = await post("/knn/resolve", body);
    expect(r.status).toBe(status);
    expect((r.json.error as { code: string }).code).toBe(code);
  });

  it("answers malformed JSON with 400", async () => {
    expect((await post("/knn/resolve", "{")).status).toBe(400);
  });
});

describe("emb-indexer: answers name the instance and its partitions", () => {
  const partitions = [
    { partition: 2, state: "live", applied: 20, end: 20 },
    { partition: 5, state: "loading", applied: 0, end: 7 },
  ];

  it("in /knn/query, /knn/shards and /metrics", async () => {
    const q = await post("/knn/query", { vector: vectorOf(4), k: 2, exact: true });
    expect(q.status).toBe(200);
    expect(q.json).toMatchObject({ instance: "idx-test", partitions });
    for (const route of ["/knn/shards", "/metrics"]) {
      const json = (await (await fetch(`${base}${route}`)).json()) as Record<string, unknown>;
      expect(json, route).toMatchObject({ instance: "idx-test", partitions });
    }
  });

  it("leaves exclude_doc_id out of a vector query (the console's doc_id query, fanned out)", async () => {
    const ids = async (body: object) => ((await post("/knn/query", { vector: vectorOf(4), k: 3, exact: true, ...body })).json.neighbors as { doc_id: string }[]).map((n) => n.doc_id);
    expect((await ids({}))[0]).toBe("doc-4");
    const without = await ids({ exclude_doc_id: "doc-4" });
    expect(without).not.toContain("doc-4");
    expect(without).toHaveLength(3);
  });
});
