/**
 * How a record shows on the topic page: long strings folded, vectors
 * summarised as "vector · 384 dims · norm 1.000 · […]", a value cut at the
 * preview limit saying so, base64 labelled, retention in words, and the
 * JSONL of what is on screen.
 */
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { MessageCard } from "@/components/topics/message-card";
import { fold, formatRetention, isWholeVector, recordsLabel, toJsonl, vectorLabel, vectorSummary } from "@/components/topics/message-view";
import type { TopicMessage } from "@/lib/topics/types";

const utf8 = (data: string, truncated = false, size = Buffer.byteLength(data)) => ({ encoding: "utf8" as const, data: data as string | null, size, truncated });

const embedding: TopicMessage = {
  partition: 1,
  offset: "42",
  timestamp: Date.UTC(2026, 11, 2, 8, 0, 0, 123),
  key: utf8("doc-7"),
  headers: [{ key: "trace", value: utf8("t-1") }],
  // A JSON value comes parsed in `json`, its data null (lib/topics/present.ts).
  value: { ...utf8('{"doc_id":"doc-7"}'), data: null },
  json: { doc_id: "doc-7", text: "x".repeat(450), vector: { $vector: { dim: 384, norm: 0.99987, head: [0.012345, -0.02, 0.5] } }, dims: [1, 2, 3] },
  links: [{ rel: "source", label: "source record", href: "/topics/embedding_input?key=doc-7&timestamp=1764662400000" }, { rel: "similar", label: "more like this", href: "/search?doc_id=doc-7" }],
};

function render(message: TopicMessage): string {
  const client = new QueryClient();
  return renderToStaticMarkup(createElement(QueryClientProvider, { client }, createElement(MessageCard, { topic: "embeddings", message })));
}

describe("folding", () => {
  it("keeps short strings whole and cuts long ones at 300 characters, never inside a surrogate pair", () => {
    expect(fold("short")).toEqual({ head: "short", hidden: 0 });
    expect(fold("a".repeat(300))).toEqual({ head: "a".repeat(300), hidden: 0 });
    expect(fold("a".repeat(301))).toEqual({ head: "a".repeat(300), hidden: 1 });
    const emoji = "😀".repeat(301);
    expect(fold(emoji).head).toBe("😀".repeat(300));
    expect(fold(emoji).hidden).toBe(1);
  });
});

describe("vectors", () => {
  it("recognises the API's summary and nothing else", () => {
    expect(vectorSummary({ $vector: { dim: 3, norm: 1, head: [1] } })).toEqual({ dim: 3, norm: 1, head: [1] });
    expect(vectorSummary({ $vector: { dim: 3, norm: 1, head: [1] }, other: 1 })).toBeNull();
    expect(vectorSummary({ $vector: "x" })).toBeNull();
    expect(vectorSummary([1, 2])).toBeNull();
    expect(vectorSummary(null)).toBeNull();
  });

  it("tells a whole vector (vectors=full) from other arrays", () => {
    expect(isWholeVector(Array.from({ length: 16 }, (_, i) => i / 16))).toBe(true);
    expect(isWholeVector(Array.from({ length: 15 }, () => 0.1))).toBe(false);
    expect(isWholeVector(Array.from({ length: 20 }, () => "a"))).toBe(false);
  });

  it("reads as dims, norm and its first values", () => {
    expect(vectorLabel({ dim: 384, norm: 0.99987, head: [0.012345, -0.02, 0.5] })).toBe("vector · 384 dims · norm 1.000 · [0.0123, -0.02, 0.5, …]");
    expect(vectorLabel({ dim: 2, norm: 1, head: [0.6, 0.8] })).toBe("vector · 2 dims · norm 1.000 · [0.6, 0.8]");
  });
});

describe("topic figures", () => {
  it.each<[number | null, string]>([[-1, "forever"], [604_800_000, "7 d"], [129_600_000, "1.5 d"], [3_600_000, "1 h"], [1_800_000, "30 min"], [5_000, "5 s"], [250, "250 ms"], [null, "—"]])("retention %s is %s", (ms, shown) => {
    expect(formatRetention(ms)).toBe(shown);
  });

  it("marks a record count that is the offset gap", () => {
    expect(recordsLabel(1234, true)).toBe("1,234");
    expect(recordsLabel(5000, false)).toBe("≈ 5,000");
  });
});

describe("a record card", () => {
  it("shows partition, offset, UTC time, key, headers, the vector summary with full vector, folded text and the links", () => {
    const html = render(embedding);
    expect(html).toContain('data-testid="topic-message" data-partition="1" data-offset="42" data-key="doc-7"');
    expect(html).toContain("2026-12-02T08:00:00.123Z");
    expect(html).toContain("trace");
    expect(html).toContain("vector · 384 dims · norm 1.000 · [0.0123, -0.02, 0.5, …]");
    expect(html).toContain('data-testid="full-vector"');
    expect(html).toContain("show all (152 more characters)");
    expect(html).toContain("[1, 2, 3]");
    expect(html).toContain('href="/topics/embedding_input?key=doc-7&amp;timestamp=1764662400000"');
    expect(html).toContain('data-testid="message-link-similar"');
  });

  it("shows a vector read whole on one wrapped line, without the summary", () => {
    const html = render({ ...embedding, json: { vector: Array.from({ length: 384 }, () => 0.25) } });
    expect(html).toContain('data-testid="vector-full" data-dim="384"');
    expect(html).not.toContain("vector-summary");
  });

  it("labels base64 and offers the whole of a truncated value", () => {
    const bin = render({ ...embedding, json: undefined, value: { encoding: "base64", data: "/w==", size: 1, truncated: false } });
    expect(bin).toContain('data-testid="bytes-base64"');
    expect(bin).not.toContain("load-whole-value");
    const cut = render({ ...embedding, json: undefined, value: utf8("a".repeat(100), true, 200_000) });
    expect(cut).toContain('data-truncated="true"');
    expect(cut).toContain("a prefix of 195.3 KB");
    expect(cut).toContain('data-testid="load-whole-value"');
  });
});

describe("the JSONL of what is on screen", () => {
  it("is one line per message, as answered, with its topic and ISO time", () => {
    const lines = toJsonl("embeddings", [embedding, { ...embedding, offset: "43" }]).split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe("");
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(first).toMatchObject({ topic: "embeddings", partition: 1, offset: "42", time: "2026-12-02T08:00:00.123Z", json: embedding.json });
    expect(JSON.parse(lines[1]!)).toMatchObject({ offset: "43" });
    expect(toJsonl("embeddings", [])).toBe("");
  });
});
