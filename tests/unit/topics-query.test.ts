/**
 * The topic page's query: read from its URL as the links of other stages
 * write it, and written back as the messages API, the export and the page's
 * own URL take it. Values the API must judge (partition=999) pass through.
 */
import { describe, expect, it } from "vitest";
import { exportHref, fromDateTimeLocal, messagesParams, messagesUrl, nextPageQuery, queryFromParams, recordQuery, toDateTimeLocal } from "@/components/topics/topic-query";

const fromUrl = (qs: string) => queryFromParams(new URLSearchParams(qs));

describe("a URL's query", () => {
  it.each([
    { qs: "", want: { partition: "", position: "newest", key: "", limit: "50" } },
    { qs: "key=doc-1&timestamp=1764662400000", want: { position: "timestamp", timestamp: "1764662400000", key: "doc-1" } },
    { qs: "partition=2&offset=40&limit=1", want: { partition: "2", position: "offset", offset: "40", limit: "1" } },
    { qs: "partition=0&offset=7&timestamp=2026-12-02T08:00:00Z", want: { position: "offset", offset: "7" } },
    { qs: "partition=999", want: { partition: "999", position: "newest" } },
    { qs: "limit=", want: { limit: "50" } },
    { qs: "cursor=0:12,1:30", want: { position: "cursor", cursor: "0:12,1:30" } },
  ])("?$qs", ({ qs, want }) => {
    expect(fromUrl(qs)).toMatchObject(want);
  });

  it.each([
    "",
    "limit=50",
    "key=e2e+doc%2F1&limit=50&timestamp=1764662400000",
    "partition=3&offset=12&limit=10",
  ])("round-trips ?%s", (qs) => {
    const q = fromUrl(qs);
    expect(fromUrl(messagesParams(q).toString())).toEqual(q);
  });

  it("sends only the position chosen, and the key as typed", () => {
    const q = { ...fromUrl("partition=1&offset=5"), position: "newest" as const, key: "a b/c" };
    expect(messagesParams(q).toString()).toBe("partition=1&key=a+b%2Fc&limit=50");
  });
});

describe("API addresses", () => {
  it("asks the messages route with unavailable=200, and the record route with vectors and full", () => {
    expect(messagesUrl("agent.results", fromUrl("key=k"))).toBe("/api/topics/agent.results/messages?key=k&limit=50&unavailable=200");
    expect(messagesUrl("embeddings", recordQuery(2, "17"), { vectors: true })).toBe("/api/topics/embeddings/messages?partition=2&offset=17&limit=1&vectors=full&unavailable=200");
    expect(messagesUrl("embeddings", recordQuery(0, "3"), { full: true })).toBe("/api/topics/embeddings/messages?partition=0&offset=3&limit=1&full=1&unavailable=200");
  });

  it("exports the same read with the export's own limit", () => {
    expect(exportHref("embeddings", fromUrl("partition=1&timestamp=2026-12-02T08:00:00Z&limit=20"), "all")).toBe("/api/topics/embeddings/export?partition=1&timestamp=2026-12-02T08%3A00%3A00Z&limit=all");
    expect(exportHref("embeddings", fromUrl(""), " ")).toBe("/api/topics/embeddings/export?limit=50");
  });

  it("continues from next as a cursor, in every partition read, keeping key and limit", () => {
    const q = nextPageQuery(fromUrl("partition=2&timestamp=1764662400000&key=k&limit=20"), "0:120,1:98");
    expect(messagesParams(q).toString()).toBe("cursor=0%3A120%2C1%3A98&key=k&limit=20");
    expect(fromUrl(messagesParams(q).toString())).toEqual(q);
  });
});

describe("the time field (UTC)", () => {
  it.each([
    ["2026-12-02T08:00:00Z", "2026-12-02T08:00:00"],
    ["1764662400123", "2025-12-02T08:00:00"],
    ["2026-12-02T09:30:15+01:00", "2026-12-02T08:30:15"],
    ["yesterday", ""],
    ["", ""],
  ])("shows %s as %s", (raw, shown) => {
    expect(toDateTimeLocal(raw)).toBe(shown);
  });

  it.each([
    ["2026-12-02T08:00", "2026-12-02T08:00:00Z"],
    ["2026-12-02T08:00:30", "2026-12-02T08:00:30Z"],
    ["", ""],
  ])("sends %s as %s", (value, sent) => {
    expect(fromDateTimeLocal(value)).toBe(sent);
  });
});
