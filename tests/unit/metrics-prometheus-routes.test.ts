/**
 * GET /metrics/prometheus of the parse worker and the emb-indexer, over their
 * real HTTP servers: Prometheus text that promtool accepts, with the figures
 * their /metrics JSON shows at the same moment.
 * (The embed-worker's is checked by tests/integration/embed-worker.test.ts; the
 * embedding service serves prom-client's registry, tests/integration/infermesh.test.ts.)
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
import { createIndexerServer } from "@/workers/indexer/http";
import { IndexerMetrics } from "@/workers/indexer/metrics";
import { PartitionOwnership } from "@/workers/indexer/ownership";
import { ParseHealth } from "@/workers/parse/health";
import { createParseServer } from "@/workers/parse/http";
import { ParseMetrics } from "@/workers/parse/metrics";
import { promtoolCheckMetrics } from "../harness/promtool";

const DIM = 8;
const TOPIC = "embeddings";
const log = createLogger("test", "silent");
const listen = (server: Server) => new Promise<string>((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
const close = (server: Server) => new Promise((resolve) => server.close(resolve));
/** The value of an unlabelled sample, or of the one with these labels. */
function sample(exposition: string, name: string, labels = ""): number | undefined {
  const line = exposition.split("\n").find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

let dir: string;
let index: VectorIndex;
let indexer: Server;
let parse: Server;
const urls: Record<"indexer" | "parse", string> = { indexer: "", parse: "" };

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "metrics-prometheus-"));
  index = VectorIndex.open({ dir, shards: 4, maxIdsPerShard: 0, hnsw: { connectivity: 16, efAdd: 64, efSearch: 32 } }).index;
  const records = Array.from({ length: 12 }, (_, i) => ({
    offset: i,
    record: { topic: "t", text: `text ${i}`, doc_id: `doc-${i}`, vector: Array.from({ length: DIM }, (_, d) => Math.sin(i + d) + 1), kafka_ts: 1, embedded_ts: 100, model: "m", dim: DIM, normalized: false },
  }));
  index.apply(TOPIC, 1, records, 12);
  const ownership = new PartitionOwnership((p) => index.nextOffset(TOPIC, p) ?? 0);
  ownership.assign([1, 4]);
  ownership.setEnd(1, 12);
  ownership.setEnd(4, 9);
  const metrics = new IndexerMetrics();
  metrics.recordsIn = 12;
  metrics.inserted = 12;
  metrics.lag.set(4, 9);
  indexer = createIndexerServer({
    index,
    metrics,
    recall: new RecallMonitor(index, 10, new EfTuner(32, 256, 0.95)),
    embedText: () => Promise.reject(new Error("no texts here")),
    log,
    health: () => ({ httpStatus: 200, body: { status: "ok" } }),
    model: "m",
    group: { instance: "idx-a", ownership },
  });
  const parseMetrics = new ParseMetrics();
  parseMetrics.batchCommitted(7, 6, { empty_text: 1 }, [String(Date.now() - 20)]);
  parse = createParseServer(new ParseHealth(), parseMetrics, { input: ["agent.results"], output: "embedding_input", dlq: "agent.results.dlq", group: "g" }, log);
  [urls.indexer, urls.parse] = await Promise.all([listen(indexer), listen(parse)]);
});

afterAll(async () => {
  await Promise.all([close(indexer), close(parse)]);
  await index.close();
  rmSync(dir, { recursive: true, force: true });
});

async function scrape(base: string): Promise<{ contentType: string | null; text: string; json: Record<string, unknown> }> {
  const res = await fetch(`${base}/metrics/prometheus`);
  expect(res.status).toBe(200);
  const text = await res.text();
  const json = (await (await fetch(`${base}/metrics`)).json()) as Record<string, unknown>;
  return { contentType: res.headers.get("content-type"), text, json };
}

describe("GET /metrics/prometheus", () => {
  it.each(["parse", "indexer"] as const)("%s: text format 0.0.4 that promtool accepts", async (name) => {
    const { contentType, text } = await scrape(urls[name]);
    expect(contentType).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(promtoolCheckMetrics(text)).toEqual({ status: 0, output: "" });
  });

  it("parse worker: the same counts as its /metrics", async () => {
    const { text, json } = await scrape(urls.parse);
    expect(sample(text, "embedline_parse_records_in_total")).toBe(json.records_in);
    expect(sample(text, "embedline_parse_records_out_total")).toBe(json.records_out);
    expect(sample(text, "embedline_parse_dlq_records_by_reason_total", '{reason="empty_text"}')).toBe(1);
  });

  it("emb-indexer: its documents, instance and owned partitions (loading or live), as its /metrics", async () => {
    const { text, json } = await scrape(urls.indexer);
    expect(sample(text, "embedline_indexer_documents")).toBe(json.total_ids);
    expect(sample(text, "embedline_indexer_documents")).toBe(12);
    expect(sample(text, "embedline_indexer_records_in_total")).toBe(12);
    expect(text).toMatch(/^embedline_indexer_info\{[^}]*instance_id="idx-a"[^}]*\} 1$/m);
    expect(sample(text, "embedline_indexer_consumer_lag", '{partition="4"}')).toBe(9);
    // Partition 1 reached its end (12); partition 4 has applied nothing of its 9.
    expect(sample(text, "embedline_indexer_partition_live", '{partition="1"}')).toBe(1);
    expect(sample(text, "embedline_indexer_partition_live", '{partition="4"}')).toBe(0);
  });
});
