/**
 * When a DLQ answer says it is partial: RedDB's per-read cap (1,000) only when
 * the stream holds more than it returned, a download's cap known from the
 * query before any read, and the shape the API documents (schema.ts).
 */
import { describe, expect, it } from "vitest";
import { dlqPartialSchema } from "@/app/api/embed-worker/dlq/schema";
import { REDDB_MAX_PER_READ, deadlinePartial, downloadPartial, partialHeaderValue, reddbCapPartial, reddbReadPartial } from "@/lib/dlq/partial";

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

describe("a RedDB read", () => {
  it.each([
    { name: "asked 500, got 500", asked: 500, offsets: range(4000, 500), partial: null },
    { name: "asked 5,000 of a stream of 300: all of it", asked: 5000, offsets: range(0, 300), partial: null },
    { name: "asked 5,000 of a stream of exactly 1,000: all of it", asked: 5000, offsets: range(0, 1000), partial: null },
    { name: "asked 5,000 of a stream of 4,500: the newest 1,000 (cap)", asked: 5000, offsets: range(3500, 1000), partial: { reason: "source_cap", limit: 1000 } },
    { name: "asked 2,000, a store capping at 500", asked: 2000, offsets: range(9500, 500), partial: { reason: "source_cap", limit: 500 } },
    { name: "rows without numeric offsets, under the cap", asked: 5000, offsets: Array(20).fill(undefined), partial: null },
    { name: "rows without numeric offsets, the whole cap", asked: 5000, offsets: Array(REDDB_MAX_PER_READ).fill("x"), partial: { reason: "source_cap", limit: 1000 } },
    { name: "an empty stream", asked: 10, offsets: [], partial: null },
  ])("$name", ({ asked, offsets, partial }) => {
    const got = reddbReadPartial(asked, offsets);
    if (partial === null) expect(got).toBeNull();
    else expect(got).toMatchObject(partial);
    expect(dlqPartialSchema.safeParse(got).success).toBe(true);
  });

  it("says how much and why, in the words the page shows", () => {
    expect(reddbCapPartial(1000).message).toBe("showing the newest 1,000 of RedDB's entries; RedDB returns at most 1,000 per read");
    expect(deadlinePartial(37, 10_000)).toMatchObject({ reason: "deadline", limit: 37, message: expect.stringContaining("10 s deadline") });
  });
});

describe("a download, from its query alone", () => {
  it.each([
    { q: { source: "kafka" as const, limit: "all" as const }, header: null },
    { q: { source: "kafka" as const, limit: 50_000 }, header: null },
    { q: { source: "reddb" as const, limit: 1000 }, header: null },
    { q: { source: "reddb" as const, limit: 1001 }, header: "source_cap; limit=1000" },
    { q: { source: "reddb" as const, limit: "all" as const }, header: "source_cap; limit=1000" },
  ])("$q.source limit=$q.limit → $header", ({ q, header }) => {
    const p = downloadPartial(q);
    expect(p ? partialHeaderValue(p) : null).toBe(header);
  });
});

describe("the DLQ page's notes", () => {
  it("warns next to the download buttons before the click only when RedDB will cap the file", async () => {
    const { renderToStaticMarkup } = await import("react-dom/server");
    const { createElement } = await import("react");
    const { DlqDownloadNote, DlqPartialNote } = await import("@/components/dlq/dlq-partial-note");
    const note = (filter: { limit: number; stage: ""; source: "kafka" | "reddb" }) => renderToStaticMarkup(createElement(DlqDownloadNote, { filter }));
    expect(note({ limit: 5000, stage: "", source: "reddb" })).toContain("downloads hold the newest 1,000 only: RedDB returns at most 1,000 entries per read");
    expect(note({ limit: 1000, stage: "", source: "reddb" })).toBe("");
    expect(note({ limit: 5000, stage: "", source: "kafka" })).toBe("");
    const shown = renderToStaticMarkup(createElement(DlqPartialNote, { partial: reddbCapPartial(1000) }));
    expect(shown).toContain('data-testid="dlq-partial"');
    expect(shown).toContain("showing the newest 1,000 of RedDB&#x27;s entries; RedDB returns at most 1,000 per read");
  });
});
