import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@/lib/log";
import { embedWorkerPoll } from "@/lib/upstreams/embed-worker";
import { indexerPoll } from "@/lib/upstreams/indexer";
import { sparkPoll } from "@/lib/upstreams/spark";
import { stageFigures } from "@/lib/upstreams/stage";
import { WorkerStats } from "@/workers/embed/stats";
import { IndexerMetrics } from "@/workers/indexer/metrics";
import { createParseServer } from "@/workers/parse/http";
import { ParseHealth } from "@/workers/parse/health";
import { ParseMetrics } from "@/workers/parse/metrics";

// The console's streams carry each stage's figures (records/s, p50/p99) as the
// workers publish them, so the history recorder keeps them with every event.
// The parse worker's own HTTP server answers; the embed-worker's and indexer's
// /metrics are their metrics objects' JSON served as is. Spark is not running.

const embedStats = new WorkerStats();
const indexMetrics = new IndexerMetrics();
const parseMetrics = new ParseMetrics();
let workers: Server;
let parse: Server;
const ENV_KEYS = ["EMBED_WORKER_METRICS_URL", "INDEXER_URL", "PARSE_METRICS_URL", "SPARK_VECTOR_UI_URL", "LOG_LEVEL"] as const;
const savedEnv = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));

beforeAll(async () => {
  workers = createServer((req, res) => {
    const body =
      req.url === "/embed/metrics" ? embedStats.json({ paused: false, status: "ok" })
      : req.url === "/indexer/metrics" ? indexMetrics.toJSON({ total_ids: 0, dim: null, model: null, recall: { recall_at_10: null } as never })
      : req.url === "/indexer/health" ? { status: "ok" }
      : undefined;
    res.writeHead(body ? 200 : 404, { "content-type": "application/json" }).end(JSON.stringify(body ?? { error: "not_found" }));
  }).listen(0, "127.0.0.1");
  parse = createParseServer(new ParseHealth(), parseMetrics, { input: ["agent.results"], output: "embedding_input", dlq: "agent.results.dlq", group: "g" }, createLogger("test", "silent")).listen(0, "127.0.0.1");
  await Promise.all([once(workers, "listening"), once(parse, "listening")]);
  const base = `http://127.0.0.1:${(workers.address() as AddressInfo).port}`;
  // Read once, at the first poll (lib/config/console.ts caches it).
  Object.assign(process.env, {
    EMBED_WORKER_METRICS_URL: `${base}/embed`,
    INDEXER_URL: `${base}/indexer`,
    PARSE_METRICS_URL: `http://127.0.0.1:${(parse.address() as AddressInfo).port}`,
    SPARK_VECTOR_UI_URL: `${base}/spark`,
    LOG_LEVEL: "silent",
  });
});
afterAll(() => {
  for (const k of ENV_KEYS) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
  workers.close();
  parse.close();
});

describe("stage figures on the streams", () => {
  it("embed-worker and indexer events carry the stage's records/s and p50/p99", async () => {
    const now = Date.now();
    embedStats.stage.observe([String(now - 1_500), String(now - 500)], now);
    indexMetrics.stage.observe([String(now - 20)], now);
    const signal = new AbortController().signal;
    const embed = await embedWorkerPoll()(signal);
    const index = await indexerPoll()(signal);
    expect(embed).toMatchObject({ stage: { records: 2, p50_ms: 500, p99_ms: 1_500, window_sec: 60 } });
    expect(index).toMatchObject({ stage: { records: 1, p50_ms: 20, p99_ms: 20, window_sec: 60 } });
    expect((embed as { stage: { records_per_sec: number } }).stage.records_per_sec).toBeGreaterThan(0);
  });

  it("the spark event carries the parse worker's figures when Spark does not run", async () => {
    const now = Date.now();
    parseMetrics.batchCommitted(1, 1, {}, [String(now - 250)]);
    const spark = await sparkPoll()(new AbortController().signal);
    // Spark silent while the parse worker answers, without the launcher: the default stack, not an outage (lib/health/in-use.ts).
    expect(spark.status).toBe("not_in_use");
    expect(spark.parse_stage).toMatchObject({ records: 1, window_sec: 60 });
    expect(spark.parse_stage!.p99_ms).toBeGreaterThanOrEqual(250);
  });

  it.each([
    ["a worker without stage_window (older build)", { records_in: 3 }, null],
    ["not an object", "x", null],
    ["nonsense values become null", { stage_window: { records_per_sec: "9", records: -1, p50_ms: 3, p99_ms: Number.NaN, window_sec: 60 } }, { records_per_sec: null, records: null, p50_ms: 3, p99_ms: null, window_sec: 60 }],
  ])("stageFigures: %s", (_name, metrics, want) => {
    expect(stageFigures(metrics)).toEqual(want);
  });
});
