/**
 * The Topics table and the messages page's states as an operator reads them:
 * a topic not created yet says so, retention and approximate counts in words,
 * a refused read shows the API's message with its status, an empty read the
 * offsets each partition holds.
 */
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { MessagesEmpty, MessagesError, MessagesPartialNote } from "@/components/topics/messages-states";
import { TopicsTable } from "@/components/topics/topics-table";
import { ApiError } from "@/lib/http/api-error";
import type { MessagesAnswer, TopicSummary } from "@/lib/topics/types";

const topic = (over: Partial<TopicSummary>): TopicSummary => ({
  name: "embeddings",
  role: "embeddings",
  writer: "embed-worker",
  readers: ["emb-indexer"],
  exists: true,
  partitions: [{ partition: 0, start: "0", end: "5000", records: 5000, exact: false, size_bytes: 2048 }],
  records: 5000,
  exact: false,
  size_bytes: 2048,
  retention_ms: -1,
  retention_bytes: -1,
  cleanup_policy: "compact",
  max_message_bytes: 1048576,
  ...over,
});

const answer = (over: Partial<MessagesAnswer>): MessagesAnswer => ({ topic: "embeddings", mode: "offset", messages: [], next: null, scanned: 0, partial: null, partitions: [], timestamp: 0, ...over });

describe("the Topics table", () => {
  const html = renderToStaticMarkup(createElement(TopicsTable, { topics: [topic({}), topic({ name: "spark.progress", role: "spark_progress", readers: [], exists: false, partitions: [], records: 0, exact: true, size_bytes: null, retention_ms: null, retention_bytes: null, cleanup_policy: null })] }));

  it("shows figures in words: forever, ≈ for an offset gap, formatted bytes, the readers", () => {
    expect(html).toContain('data-testid="topic-row" data-name="embeddings" data-exists="true" data-records="5000"');
    expect(html).toContain("≈ 5,000");
    expect(html).toContain(">forever<");
    expect(html).toContain("2.0 KB");
    expect(html).toContain("emb-indexer");
    expect(html).toContain('href="/topics/embeddings"');
  });

  it("says a topic nothing wrote to is not created yet, with no figures", () => {
    expect(html).toContain('data-name="spark.progress" data-exists="false"');
    expect(html).toContain("not created yet");
    expect(html).toContain("no group");
  });
});

describe("the messages page's states", () => {
  it("shows a refused read's message and status", () => {
    const html = renderToStaticMarkup(createElement(MessagesError, { error: ApiError.received(422, "out_of_range", "partition 999 does not exist: embeddings has partitions 0..2") }));
    expect(html).toContain('data-status="422"');
    expect(html).toContain("The read was refused");
    expect(html).toContain("partition 999 does not exist: embeddings has partitions 0..2");
  });

  it("links an unknown topic to the list of topics", () => {
    const html = renderToStaticMarkup(createElement(MessagesError, { error: ApiError.received(404, "unknown_topic", "\"x\" is not one of the pipeline's topics") }));
    expect(html).toContain("No such topic");
    expect(html).toContain('href="/topics"');
  });

  it("says an empty range is empty, with the offsets each partition holds", () => {
    const html = renderToStaticMarkup(createElement(MessagesEmpty, { answer: answer({ scanned: 12, partitions: [{ partition: 0, start: "3", end: "40" }, { partition: 1, start: "0", end: "0" }] }) }));
    expect(html).toContain("No records in this range (12 offsets read)");
    expect(html).toContain("partition 0: 3–40 · partition 1: 0–0");
  });

  it("says why an answer is partial", () => {
    const html = renderToStaticMarkup(createElement(MessagesPartialNote, { partial: { reason: "scan_limit", message: "looked at 100,000 offsets" }, scanned: 100_000 }));
    expect(html).toContain('data-reason="scan_limit"');
    expect(html).toContain("Partial answer after 100,000 offsets read: looked at 100,000 offsets");
  });
});
