import { describe, expect, it } from "vitest";
import { csvCell } from "@/lib/dlq/csv";
import { toDlqItem } from "@/lib/dlq/item";
import { fillReddbPath } from "@/lib/dlq/reddb-path";
import { planRedrive } from "@/lib/dlq/redrive";
import { dlqDownloadSchema, dlqQuerySchema } from "@/app/api/embed-worker/dlq/schema";

const base = "http://reddb.test:8080";
const template = "/api/streams/{ns}/{stream}/tail?limit={limit}";

describe("REDDB_DLQ_HTTP_PATH filling", () => {
  it.each([
    { ns: "embedline", stream: "embeddings_dlq", path: "/api/streams/embedline/embeddings_dlq/tail?limit=500" },
    { ns: "../admin", stream: "x", path: "/api/streams/%2E%2E%2Fadmin/x/tail?limit=500" },
    { ns: "a?b=c", stream: "s#frag", path: "/api/streams/a%3Fb%3Dc/s%23frag/tail?limit=500" },
    { ns: "a/../../etc", stream: "x&limit=99999", path: "/api/streams/a%2F%2E%2E%2F%2E%2E%2Fetc/x%26limit%3D99999/tail?limit=500" },
  ])("$ns / $stream → encoded, not followed", ({ ns, stream, path }) => {
    const filled = fillReddbPath(template, { ns, stream, limit: 500 });
    expect(filled).toBe(path);
    // A URL parser keeps it as one segment under /api/streams: nothing climbs out or adds a query parameter.
    const url = new URL(`${base}${filled}`);
    expect(url.pathname.startsWith("/api/streams/")).toBe(true);
    expect(url.pathname.split("/")).toHaveLength(6);
    expect([...url.searchParams.keys()]).toEqual(["limit"]);
  });

  it("refuses a name that is only dots, which a URL parser would resolve", () => {
    expect(() => fillReddbPath(template, { ns: "..", stream: "x", limit: 1 })).toThrow(/only dots/);
  });
});

describe("DLQ limits", () => {
  it.each([
    { query: {}, ok: true, limit: 500 },
    { query: { limit: "1" }, ok: true, limit: 1 },
    { query: { limit: "10000" }, ok: true, limit: 10000 },
    { query: { limit: "0" }, ok: false },
    { query: { limit: "10001" }, ok: false },
    { query: { limit: "-5" }, ok: false },
    { query: { limit: "abc" }, ok: false },
    { query: { limit: "1.5" }, ok: false },
  ])("limit $query.limit → ok=$ok", ({ query, ok, limit }) => {
    const r = dlqQuerySchema.safeParse(query);
    expect(r.success).toBe(ok);
    if (ok) expect(r.data?.limit).toBe(limit);
  });

  it("downloads take any N or all", () => {
    expect(dlqDownloadSchema.parse({ limit: "250000", format: "csv" })).toEqual({ limit: 250000, format: "csv" });
    expect(dlqDownloadSchema.parse({ limit: "all" }).limit).toBe("all");
    expect(dlqDownloadSchema.safeParse({ format: "xml" }).success).toBe(false);
  });
});

const record = (over: Record<string, unknown> = {}) => ({
  text: "hello", topic: "agent.results", kafka_ts: 1700000000, doc_id: "d1", reason: "provider_rejected", error: "HTTP 422",
  attempts: 1, ts: 1700000001, model: "use-lite", source: { topic: "embedding_input", partition: 2, offset: "41" }, ...over,
});
const opts = { maxReplays: 3, embedInputTopic: "embedding_input", dlqName: "kafka:embeddings_dlq" };

describe("redrive plan", () => {
  it("sends an entry back to its source topic as an embedding_input record, replay count raised", () => {
    const plan = planRedrive([toDlqItem("kafka:0:7", record(), 1, null)], opts);
    expect(plan.skipped).toEqual([]);
    expect(plan.send).toHaveLength(1);
    const [s] = plan.send;
    expect(s!.topic).toBe("embedding_input");
    expect(s!.message.key).toBe("d1");
    expect(JSON.parse(String(s!.message.value))).toEqual({ text: "hello", topic: "agent.results", kafka_ts: 1700000000, doc_id: "d1" });
    expect(s!.message.headers).toEqual({ "x-embedline-replay-count": "2", "x-embedline-redriven-from": "kafka:embeddings_dlq/kafka:0:7" });
  });

  it("stops a record that was already redriven the maximum number of times", () => {
    const plan = planRedrive([toDlqItem("kafka:0:8", record(), 3, null)], opts);
    expect(plan.send).toEqual([]);
    expect(plan.skipped).toEqual([{ id: "kafka:0:8", reason: "replay_limit" }]);
  });

  it("skips what cannot be rebuilt: no text, or not a DLQ record at all", () => {
    const plan = planRedrive([toDlqItem("kafka:0:9", record({ text: null, reason: "invalid_json" }), 0, null), toDlqItem("kafka:0:10", "garbage", 0, 5)], opts);
    expect(plan.skipped.map((s) => s.reason)).toEqual(["not_redrivable", "not_redrivable"]);
  });
});

describe("CSV cells", () => {
  it.each([
    ["plain", "plain"],
    ['say "hi", ok', '"say ""hi"", ok"'],
    ["line\nbreak", '"line\nbreak"'],
    ["=HYPERLINK(1)", "'=HYPERLINK(1)"],
    [42, "42"],
    [null, ""],
  ])("%j → %j", (input, out) => expect(csvCell(input)).toBe(out));
});
