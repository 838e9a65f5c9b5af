import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { historyRecorder, recordStreams, stopHistoryRecorder } from "@/lib/history/recorder";
import { slimEvent } from "@/lib/history/slim";
import { HistoryStore } from "@/lib/history/store";
import { Poller } from "@/lib/sse/poller";
import { waitFor } from "../harness/wait-for";

process.env.LOG_LEVEL = "silent";
// The console's own recorder below runs on this configuration: every upstream refuses at once.
const dataDir = mkdtempSync(path.join(tmpdir(), "history-recorder-"));
Object.assign(process.env, {
  DATA_DIR: dataDir,
  INFERMESH_URL: "http://127.0.0.1:1",
  EMBED_WORKER_METRICS_URL: "http://127.0.0.1:1",
  INDEXER_URL: "http://127.0.0.1:1",
  PARSE_METRICS_URL: "http://127.0.0.1:1",
  SPARK_VECTOR_UI_URL: "http://127.0.0.1:1/api/v1",
  KAFKA_BOOTSTRAP_SERVERS: "127.0.0.1:1",
});
afterAll(async () => {
  await stopHistoryRecorder();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A lag event as lib/upstreams/lag.ts sends it (3 groups × 3 partitions, the default stack). */
function lagEvent() {
  const group = (name: string, topic: string) => ({
    group: name,
    topics: [{ topic, partitions: [0, 1, 2].map((p) => ({ partition: p, committed: 123_456 + p, end: 123_456 + p, lag: 0 })), lag: 0 }],
    lag: 0,
    caught_up: true,
    consume_rate: 41.5,
    drain_sec: 0,
  });
  return { groups: [group("embedline-parse", "agent.results"), group("embedline-embed", "embedding_input"), group("embedline-indexer", "embeddings")], total_lag: 0, timestamp: 1_796_170_602.9 };
}

describe("history recorder", () => {
  it("polls every stream with no browser subscribed and records each event with the server's time", async () => {
    const store = new HistoryStore({ windowMs: 60 * 60_000 });
    let n = 0;
    const pollers = {
      infermesh: new Poller({ event: "infermesh", intervalMs: 5, history: 10, poll: async () => ({ n: ++n }) }),
      lag: new Poller({ event: "lag", intervalMs: 5, history: 10, poll: async () => lagEvent() }),
    };
    const before = Date.now();
    const stop = recordStreams(store, ["infermesh", "lag"], (name) => pollers[name as keyof typeof pollers]);
    expect(pollers.infermesh.running).toBe(true);
    await waitFor("a few events of each stream", () => Object.values(store.stats()).length === 2 && Object.values(store.stats()).every((s) => s.points >= 3), 10_000, 5);
    const q = store.query(["infermesh", "lag"], 60 * 60_000);
    expect(q.infermesh!.slice(0, 3).map((p) => JSON.parse(p.data))).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(q.infermesh!.every((p) => p.t >= before && p.t <= Date.now())).toBe(true);
    // History keeps the lag event's groups and topics, without the per-partition rows.
    const lag = JSON.parse(q.lag![0]!.data) as ReturnType<typeof lagEvent>;
    expect(lag.groups.map((g) => [g.group, g.lag, g.caught_up, g.topics.map((t) => [t.topic, t.lag, t.partitions])])).toEqual([
      ["embedline-parse", 0, true, [["agent.results", 0, []]]],
      ["embedline-embed", 0, true, [["embedding_input", 0, []]]],
      ["embedline-indexer", 0, true, [["embeddings", 0, []]]],
    ]);
    stop();
    expect(pollers.infermesh.running).toBe(false);
  });
});

describe("what history keeps of an event", () => {
  it.each([
    ["lag: per-partition rows emptied, everything else kept", "lag", JSON.stringify(lagEvent()), (v: ReturnType<typeof lagEvent>) => {
      const full = lagEvent();
      for (const g of full.groups) for (const t of g.topics) t.partitions = [];
      expect(v).toEqual(full);
    }],
    ["indexer: the recall check series emptied, recall_at_10 kept", "indexer", JSON.stringify({ metrics: { recall_at_10: 0.98, recall: { recall_at_10: 0.98, history: [{ ts: 1, recall: 0.98 }] } }, timestamp: 1 }), (v: unknown) => {
      expect(v).toEqual({ metrics: { recall_at_10: 0.98, recall: { recall_at_10: 0.98, history: [] } }, timestamp: 1 });
    }],
  ])("%s", (_, stream, data, check) => {
    const slim = slimEvent(stream, data);
    expect(slim.length).toBeLessThan(data.length);
    check(JSON.parse(slim));
  });

  it.each([
    ["another stream", "embed-worker", JSON.stringify({ metrics: { records_in: 1 }, timestamp: 1 })],
    ["an unreachable upstream", "lag", JSON.stringify({ error: "unreachable", message: "Kafka unreachable", timestamp: 1 })],
    ["an indexer event without recall", "indexer", JSON.stringify({ error: "unreachable", message: "x", timestamp: 1 })],
    ["text that is not JSON", "lag", "not json"],
  ])("leaves %s as it is", (_, stream, data) => {
    expect(slimEvent(stream, data)).toBe(data);
  });

  it("a default-stack lag event is ~1 KB on the stream and about half of it in history", () => {
    const data = JSON.stringify(lagEvent());
    expect(data.length).toBeLessThan(1200);
    expect(slimEvent("lag", data).length).toBeLessThan(650);
  });
});

describe("the console's recorder (instrumentation.ts) and GET /api/history", () => {
  it("starts once per process, records from boot, answers the route and survives a restart", async () => {
    const store = historyRecorder();
    expect(historyRecorder()).toBe(store);
    const s = await store;
    await waitFor("the first events of the HTTP upstreams", () => ["infermesh", "indexer", "vectorizer"].every((n) => (s.stats()[n]?.points ?? 0) >= 1), 10_000, 5);
    const { GET } = await import("@/app/api/history/route");
    const res = await GET(new Request("http://console.test/api/history?names=infermesh,indexer&window=15m"), undefined);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { events: Record<string, { t: number; data: Record<string, unknown> }[]> };
    expect(body.events.infermesh![0]!.data).toMatchObject({ infermesh: { status: "unreachable" } });
    expect(body.events.indexer![0]!.data).toMatchObject({ error: "unreachable" });

    await stopHistoryRecorder();
    const file = path.join(dataDir, "console", "history", "infermesh.jsonl");
    expect(existsSync(file)).toBe(true);
    const recorded = readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { t: number });
    const restarted = await historyRecorder();
    expect(restarted).not.toBe(s);
    expect(restarted.query(["infermesh"], 15 * 60_000).infermesh!.slice(0, recorded.length).map((p) => p.t)).toEqual(recorded.map((r) => r.t));
  }, 30_000);
});
