/**
 * Readable search results (issue 14): each neighbour shows its text, or why
 * there is none, with its doc_id, topic, model, score and embedded time, and
 * "more like this" asks by its doc_id. Rendered with react-dom/server; the
 * console's answer schema is the one the route validates the indexer with.
 */
import { createElement, isValidElement, type ReactElement, type ReactNode } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { knnAnswerSchema, type KnnInstance, type KnnNeighbor, type KnnPartial } from "@/lib/knn/answer";
import { toCsv } from "@/components/search/download";
import { emptyMessage, partialView, searchErrorView, textView, timeAgo } from "@/components/search/result-view";
import { SearchResult } from "@/components/search/search-result";
import { SearchResults } from "@/components/search/search-results";
import { SearchError } from "@/components/search/search-states";
import { ApiError } from "@/lib/http/api-error";

const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);
const INSTANCES: KnnInstance[] = [
  { instance: "idx-a", url: "http://127.0.0.1:9102", partitions: [0, 2], ok: true, took_ms: 3 },
  { instance: "idx-b", url: "http://127.0.0.1:9103", partitions: [1], ok: false, took_ms: null, error: "timed out" },
];
const HASH = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const neighbor = (over: Partial<KnnNeighbor> = {}): KnnNeighbor => ({
  doc_id: HASH,
  score: 0.8731,
  model: "all-MiniLM-L6-v2",
  topic: "agent.results",
  embedded_ts: NOW / 1000 - 300,
  text: "How do I reset my password?",
  text_truncated: false,
  text_len: 27,
  text_stored: true,
  ...over,
});
const render = (n: KnnNeighbor, onMoreLikeThis: (id: string) => void = () => undefined) => renderToStaticMarkup(createElement(SearchResult, { neighbor: n, rank: 1, now: NOW, onMoreLikeThis }));
const textOf = (html: string) => /data-testid="search-result-text"[^>]*>(.*?)<\/p>/s.exec(html)?.[1]?.replace(/<[^>]+>/g, "");

/** Every element of a rendered tree, so an event prop can be called as the browser would. */
function* elements(node: ReactNode): Generator<ReactElement<Record<string, unknown>>> {
  if (Array.isArray(node)) for (const child of node) yield* elements(child as ReactNode);
  else if (isValidElement<Record<string, unknown>>(node)) {
    yield node;
    yield* elements(node.props.children as ReactNode);
  }
}

describe("a search result", () => {
  it("shows the text, the short doc_id with the full one in a tooltip, topic, model, score and embedded time", () => {
    const html = render(neighbor());
    expect(html).toContain('data-testid="search-result"');
    expect(textOf(html)).toBe("How do I reset my password?");
    // The whole doc_id in the DOM and its tooltip, cut to one short line by CSS.
    expect(html).toMatch(new RegExp(`class="[^"]*max-w-\\[13rem\\] truncate[^"]*" data-testid="result-doc-id" title="${HASH}">${HASH}<`));
    expect(html).toContain('data-testid="copy-doc-id"');
    expect(html).toContain(">agent.results<");
    expect(html).toContain(">all-MiniLM-L6-v2<");
    expect(html).toContain(">0.873<");
    expect(html).toContain('title="embedded 2026-12-02T11:55:00Z"');
    expect(html).toContain(">5 min ago<");
    expect(html).toContain('data-testid="more-like-this"');
  });

  it("a cut text ends with … and says of how many characters", () => {
    const html = render(neighbor({ text: "x".repeat(300), text_truncated: true, text_len: 1200 }));
    expect(textOf(html)).toBe(`${"x".repeat(300)}…`);
    expect(html).toContain('data-truncated="true"');
    expect(html).toContain("the first 300 of 1,200 characters");
  });

  it.each([
    { name: "a record without text (EMBED_STORE_TEXT=0)", n: { text: null, text_stored: false, text_len: 812 }, says: "text not stored (EMBED_STORE_TEXT=0) · 812 characters", reason: "not_stored" },
    { name: "a row indexed before texts were kept", n: { text: null, text_stored: false, text_len: null }, says: "indexed before texts were kept (rebuild the index to see texts)", reason: "indexed_before" },
  ])("$name says so instead of a blank", ({ n, says, reason }) => {
    const html = render(neighbor(n));
    expect(textOf(html)).toBe(says);
    expect(html).toContain(`data-missing="${reason}"`);
  });

  it("compact (the Overview's quick search) clamps the text to three lines with the snippet in its tooltip", () => {
    const html = renderToStaticMarkup(createElement(SearchResult, { neighbor: neighbor(), rank: 1, now: NOW, onMoreLikeThis: () => undefined, compact: true }));
    expect(html).toMatch(/class="[^"]*line-clamp-3[^"]*" title="How do I reset my password\?" data-testid="search-result-text"/);
    expect(render(neighbor())).not.toContain("line-clamp-3");
  });

  it("more like this asks by the result's doc_id", () => {
    const asked: string[] = [];
    const tree = SearchResult({ neighbor: neighbor(), rank: 1, now: NOW, onMoreLikeThis: (id) => asked.push(id) });
    const button = [...elements(tree)].find((e) => e.props["data-testid"] === "more-like-this");
    (button?.props.onClick as () => void)();
    expect(asked).toEqual([HASH]);
  });
});

describe("a list of results", () => {
  const answer = (neighbors: KnnNeighbor[], partial: KnnPartial | null = null) => ({ neighbors, count_scored: 1234, took_ms: 3.2, mode: "hnsw", instances: INSTANCES, partial });
  const list = (props: Partial<Parameters<typeof SearchResults>[0]> & { answer: ReturnType<typeof answer> }) => renderToStaticMarkup(createElement(SearchResults, { onMoreLikeThis: () => undefined, answeredAt: NOW, ...props }));

  it("renders one search-result per neighbour, in order", () => {
    const html = list({ answer: answer([neighbor({ doc_id: "a" }), neighbor({ doc_id: "b", text: "second" })]) });
    expect(html.match(/data-testid="search-result"/g)).toHaveLength(2);
    expect(html.indexOf('data-doc-id="a"')).toBeLessThan(html.indexOf('data-doc-id="b"'));
    expect(html).toContain("1,234 scored");
  });

  it.each([
    { totalIds: 0, filtered: false, says: "the index holds no vectors yet" },
    { totalIds: 4210, filtered: false, says: "No neighbours: the index holds 4,210 vectors; try another query, or a larger k." },
    { totalIds: 4210, filtered: true, says: "the index holds 4,210 vectors; try without the topic, model or shard filters" },
    { totalIds: null, filtered: false, says: "No neighbours: try another query" },
  ])("an empty answer with $totalIds vectors held (filtered: $filtered) says what to try", ({ totalIds, filtered, says }) => {
    const html = list({ answer: answer([]), totalIds, filtered });
    expect(html).toContain('data-testid="search-empty"');
    expect(html).toContain(says);
    expect(emptyMessage(totalIds, filtered)).toContain(says);
  });
});

describe("a partial answer says what it did not search", () => {
  const answer = (partial: KnnPartial | null) => ({ neighbors: [neighbor()], count_scored: 10, took_ms: 3.2, mode: "exact", instances: INSTANCES, partial });
  const render = (partial: KnnPartial | null) => renderToStaticMarkup(createElement(SearchResults, { answer: answer(partial), onMoreLikeThis: () => undefined, answeredAt: NOW }));
  const message = "1 of 3 partitions not searched: indexer idx-b did not answer within 3,000 ms (partition 1)";

  it("shows the notice above the results with the message, the partitions and who answered", () => {
    const html = render({ reason: "timeout", message, partitions: [1] });
    expect(html).toContain('data-testid="partial-notice"');
    expect(html).toContain('data-reason="timeout"');
    expect(html).toContain(message);
    expect(html).toContain("idx-a: answered (partitions 0, 2) · idx-b: timed out");
    expect(html.indexOf("partial-notice")).toBeLessThan(html.indexOf('data-testid="search-result"'));
  });

  it("shows no notice for a complete answer", () => {
    expect(render(null)).not.toContain("partial-notice");
  });

  it.each([
    { reason: "timeout", title: /did not answer in time/, href: "/health" },
    { reason: "failed", title: /An indexer failed/, href: "/health" },
    { reason: "unassigned", title: /have no indexer right now/, href: "/shards" },
    { reason: "loading", title: /still loading/, href: "/shards" },
  ] as const)("$reason: says why and where to look", ({ reason, title, href }) => {
    const view = partialView({ reason, message, partitions: [1] });
    expect(view.title).toMatch(title);
    expect(view.title).toMatch(/results may be missing documents/);
    expect(view.message).toBe(message);
    expect(view.hint?.href).toBe(href);
  });

  it("on the Shards page it is the counts that may be missing documents", () => {
    expect(partialView({ reason: "failed", message, partitions: [1] }, "counts").title).toBe("An indexer failed: counts may be missing documents");
  });
});

describe("a failed search says what to do", () => {
  it.each([
    { name: "indexer unreachable", err: new ApiError("upstream_unreachable", "indexer is unreachable (not running?)"), title: "The indexer did not answer", hint: "check emb-indexer on the Health page", href: "/health" },
    { name: "a model mismatch (409)", err: new ApiError("model_mismatch", "the embedded text has 512 dimensions but the index holds 384-dim vectors"), title: "The query does not fit this index", hint: "another model's vectors", href: undefined },
    { name: "an unknown doc_id", err: new ApiError("unknown_doc_id", 'the index holds no document with doc_id "x"'), title: "No such document", hint: "evicted", href: "/shards" },
    { name: "a refused query", err: new ApiError("invalid_request", "k must be an integer from 1 to 1000"), title: "The query was refused", hint: "correct the query", href: undefined },
    { name: "the network", err: new TypeError("Failed to fetch"), title: "Search failed", hint: "Health page", href: "/health" },
  ])("$name", ({ err, title, hint, href }) => {
    const view = searchErrorView(err);
    expect(view.title).toBe(title);
    expect(view.hint?.text).toContain(hint);
    expect(view.hint?.href).toBe(href);
    const html = renderToStaticMarkup(createElement(SearchError, { error: err }));
    // The upstream's own message is shown as is (a 409 names the models or dimensions).
    expect(html).toContain(err.message.replace(/"/g, "&quot;"));
    if (href) expect(html).toContain(`href="${href}"`);
  });
});

describe("text and time helpers", () => {
  it.each([
    [{ text: "hi", text_truncated: false, text_len: 2, text_stored: true }, { kind: "text", text: "hi", truncated: false, length: 2 }],
    [{ text: null, text_truncated: false, text_len: 9, text_stored: false }, { kind: "missing", reason: "not_stored" }],
    [{ text: null, text_truncated: false, text_len: null, text_stored: false }, { kind: "missing", reason: "indexed_before" }],
  ])("textView(%j)", (n, view) => expect(textView(n)).toMatchObject(view));

  it.each([
    [NOW / 1000, "just now"],
    [NOW / 1000 - 42, "42 s ago"],
    [NOW / 1000 - 3 * 3600, "3 h ago"],
    [NOW / 1000 - 3 * 86400, "3 d ago"],
  ])("timeAgo(%d)", (sec, says) => expect(timeAgo(sec, NOW)).toBe(says));

  it("the CSV download carries the texts", () => {
    expect(toCsv([neighbor({ text: '=cmd, "quoted"', doc_id: "d" })])).toContain(`,"'=cmd, ""quoted""",false,27,true`);
  });
});

describe("the console's answer schema", () => {
  it("passes the indexer's text fields through", () => {
    const n = { doc_id: "d", score: 0.5, model: "m", topic: null, embedded_ts: 1, text: "t", text_truncated: true, text_len: 400, text_stored: true };
    expect(knnAnswerSchema.parse({ neighbors: [n], count_scored: 1 }).neighbors[0]).toEqual(n);
  });

  it("reads an indexer that sends no text fields as not stored, length unknown", () => {
    const parsed = knnAnswerSchema.parse({ neighbors: [{ doc_id: "d", score: 0.5 }], count_scored: 1 });
    expect(parsed.neighbors[0]).toMatchObject({ text: null, text_truncated: false, text_len: null, text_stored: false });
  });

  it.each([
    ["a text that is not a string", { text: 5 }],
    ["a negative length", { text_len: -1 }],
    ["text_stored not a boolean", { text_stored: "yes" }],
  ])("refuses %s", (_what, bad) => {
    expect(knnAnswerSchema.safeParse({ neighbors: [{ doc_id: "d", score: 0.5, ...bad }], count_scored: 1 }).success).toBe(false);
  });
});
