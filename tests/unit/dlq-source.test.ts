import { describe, expect, it } from "vitest";
import { csvCell } from "@/lib/dlq/csv";
import { fillReddbPath } from "@/lib/dlq/reddb-path";
import { dlqDownloadSchema, dlqQuerySchema, redriveSchema } from "@/app/api/embed-worker/dlq/schema";

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

  it.each([
    { query: { stage: "parse" }, ok: true },
    { query: { stage: "index", source: "reddb" }, ok: true },
    { query: { stage: "spark" }, ok: false },
    { query: { source: "redis" }, ok: false },
  ])("stage and source $query → ok=$ok", ({ query, ok }) => {
    expect(dlqQuerySchema.safeParse(query).success).toBe(ok);
    expect(dlqDownloadSchema.safeParse(query).success).toBe(ok);
    expect(redriveSchema.safeParse({ ids: "all", ...query }).success).toBe(ok);
  });

  it("reads Kafka unless RedDB is asked for", () => {
    expect(dlqQuerySchema.parse({}).source).toBe("kafka");
  });

  it("downloads take any N or all", () => {
    expect(dlqDownloadSchema.parse({ limit: "250000", format: "csv" })).toEqual({ limit: 250000, format: "csv", source: "kafka" });
    expect(dlqDownloadSchema.parse({ limit: "all" }).limit).toBe("all");
    expect(dlqDownloadSchema.safeParse({ format: "xml" }).success).toBe(false);
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
