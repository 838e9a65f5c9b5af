import { readFile } from "node:fs/promises";
import { expect, test } from "@playwright/test";
import { Kafka } from "kafkajs";
import { SearchPage } from "./pages/simple-pages";
import { TopicMessagesPage, TopicsPage } from "./pages/topics-page";
import { parseKafkaCluster } from "../lib/config/shared";
import { runId } from "../tests/harness/unique";

/**
 * Issue #17's browser checks on the default stack (e2e/global-setup.ts): the
 * Topics page lists the pipeline's topics; an `embeddings` record found by its
 * doc_id (the key) shows its vector summarised, leads to its source record on
 * `embedding_input` (same doc_id, the text) and to "more like this" on the
 * Search page; a bad parameter shows the API's message with the valid range.
 */
const run = runId();
/** Texts of this run only, each with a doc_id of its own (parse rule 6: an explicit `doc_id` is the key). */
const docs = ["harbour cranes unloading timber", "a choir rehearsing in a cold church", "soil samples from a vineyard"].map((subject, i) => ({
  doc_id: `topics-${run}-${i}`,
  text: `Field notes on ${subject}, entry ${i + 1} of run ${run}.`,
}));
const pipelineTopics = ["agent.results", "embedding_input", "embeddings"];

test.beforeAll(async ({ playwright }, testInfo) => {
  const api = await playwright.request.newContext({ baseURL: testInfo.project.use.baseURL });
  const res = await api.post("/api/ingest", { data: { jsonl: docs.map((d) => JSON.stringify(d)).join("\n") } });
  expect(res.status(), await res.text()).toBe(200);
  expect(await res.json()).toMatchObject({ sent: docs.length });
  await api.dispose();
});

test("an embeddings record found by its doc_id leads to its source record and to more like this", async ({ page }, testInfo) => {
  test.setTimeout(240_000);
  const doc = docs[1]!;
  const topics = new TopicsPage(page);
  await topics.goto();
  await expect(topics.settled).toBeVisible();
  for (const name of pipelineTopics) await expect(topics.row(name), name).toBeVisible();
  // The run's records reach `embeddings` once parse and embed have run.
  await expect.poll(async () => { await topics.refresh(); return topics.records("embeddings"); }, { timeout: 180_000, intervals: [3_000] }).toBeGreaterThan(0);
  await expect(topics.row("embeddings")).toHaveAttribute("data-exists", "true");
  await topics.row("embeddings").getByTestId("topic-expand").click();
  await expect(page.getByTestId("topic-partition-row").first()).toBeVisible();
  await topics.screenshot(testInfo, "topics");
  topics.expectNoConsoleErrors();

  await topics.open("embeddings");
  const embeddings = new TopicMessagesPage(page, "embeddings");
  await expect(embeddings.settled).toBeVisible();
  await embeddings.readKey(doc.doc_id);
  await expect(page).toHaveURL(new RegExp(`[?&]key=${doc.doc_id}(&|$)`));
  await expect.poll(async () => { await embeddings.refresh(); return embeddings.message(doc.doc_id).count(); }, { timeout: 120_000, intervals: [3_000] }).toBe(1);
  const record = embeddings.message(doc.doc_id);
  // 384 numbers shown as a summary: dims, norm, first values, and the whole vector on demand.
  await expect(record.getByTestId("vector-summary")).toContainText("384 dims");
  await expect(record.getByTestId("message-json")).toContainText(doc.text);
  await embeddings.screenshot(testInfo, "embeddings-record");
  await record.getByTestId("full-vector").click();
  await expect(record.getByTestId("vector-full")).toHaveAttribute("data-dim", "384");
  await expect(record.getByTestId("vector-summary")).toHaveCount(0);

  // What is on screen, as JSONL: this record, vector summarised.
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("topic-download-jsonl").click()]);
  const file = testInfo.outputPath("embeddings.jsonl");
  await download.saveAs(file);
  const lines = (await readFile(file, "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { topic: string; json: { doc_id: string; vector: unknown } });
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatchObject({ topic: "embeddings", json: { doc_id: doc.doc_id, vector: { $vector: { dim: 384 } } } });
  embeddings.expectNoConsoleErrors();

  // Its source: the embedding_input record of the same doc_id, with the text.
  await embeddings.link(record, "source").click();
  await expect(page).toHaveURL(/\/topics\/embedding_input\?/);
  const input = new TopicMessagesPage(page, "embedding_input");
  await expect(input.message(doc.doc_id)).toHaveCount(1);
  await expect(input.message(doc.doc_id).getByTestId("message-json")).toContainText(doc.text);
  await input.screenshot(testInfo, "embedding-input-source");
  input.expectNoConsoleErrors();

  // Back to the embeddings record, and to its neighbours.
  await page.goBack();
  await expect(embeddings.message(doc.doc_id)).toHaveCount(1);
  await embeddings.link(embeddings.message(doc.doc_id), "similar").click();
  await expect(page).toHaveURL(new RegExp(`/search\\?(.*&)?doc_id=${doc.doc_id}(&|$)`));
  const search = new SearchPage(page);
  await expect(page.getByTestId("search-input")).toHaveValue(doc.doc_id);
  // Indexed a moment after it was embedded: ask again (a reload) until the neighbours come.
  await expect.poll(async () => {
    if (await page.getByTestId("search-error").isVisible()) await page.reload();
    return search.resultDocIds.count();
  }, { timeout: 60_000, intervals: [3_000] }).toBeGreaterThan(0);
  await search.screenshot(testInfo, "more-like-this");
});

test("a bad parameter shows what is valid, an unknown topic the pipeline's topics", async ({ page }, testInfo) => {
  const embeddings = new TopicMessagesPage(page, "embeddings");
  await embeddings.gotoQuery("partition=999");
  await expect(embeddings.error).toHaveAttribute("data-status", "422");
  await expect(page.getByTestId("topic-messages-error-message")).toContainText(/partition/i);
  // The valid range: partitions from 0.
  await expect(page.getByTestId("topic-messages-error-message")).toContainText(/\b0\s*(\.\.|–|-|to)\s*\d+/);
  // The form still shows what was asked, to correct it.
  await expect(page.getByTestId("messages-partition")).toHaveValue("999");
  await embeddings.screenshot(testInfo, "bad-partition");

  const unknown = new TopicMessagesPage(page, `no-such-topic-${run}`);
  await unknown.goto();
  await expect(unknown.error).toHaveAttribute("data-status", "404");
  await expect(page.getByTestId("topic-messages-error-message")).toContainText("embeddings");
  await unknown.screenshot(testInfo, "unknown-topic");
});

test("a value over the preview limit says so, loads whole on demand, and bytes that are not UTF-8 show as base64", async ({ page }, testInfo) => {
  // 70,000 bytes with one that is not UTF-8: over the page's 64 KiB preview, shown as base64.
  // (The parse stage dead-letters it as invalid_unicode, as e2e/dlq.spec.ts's record.)
  const key = `topics-big-${run}`;
  const value = Buffer.alloc(70_000, 0x61);
  value[10] = 0xff;
  const producer = new Kafka({ clientId: "e2e-topics", brokers: parseKafkaCluster(process.env).brokers }).producer();
  await producer.connect();
  await producer.send({ topic: "agent.results", messages: [{ key, value, headers: { "e2e-run": run } }] });
  await producer.disconnect();

  const raw = new TopicMessagesPage(page, "agent.results");
  await raw.gotoQuery(`key=${key}`);
  const record = raw.message(key);
  await expect(record).toHaveCount(1);
  const bytes = record.getByTestId("message-value-bytes");
  await expect(bytes).toHaveAttribute("data-encoding", "base64");
  await expect(bytes).toHaveAttribute("data-truncated", "true");
  await expect(record.getByTestId("message-header")).toContainText(run);
  // Folded: a few hundred characters and "show all", not 90,000 on screen.
  await expect(bytes.getByTestId("folded-text")).toHaveAttribute("data-folded", "true");
  await raw.screenshot(testInfo, "raw-truncated");

  await record.getByTestId("load-whole-value").click();
  await expect(bytes).toHaveAttribute("data-truncated", "false");
  await expect(bytes.getByTestId("bytes-truncated")).toHaveCount(0);
  // The whole value, base64: 70,000 bytes are 93,336 characters, 300 shown.
  await expect(bytes.getByTestId("fold-toggle")).toHaveText(`show all (${(93_336 - 300).toLocaleString("en-US")} more characters)`);
  await raw.screenshot(testInfo, "raw-whole");
  // Unfolded: every character, in a box that scrolls; then folded again.
  await bytes.getByTestId("fold-toggle").click();
  await expect(bytes.getByTestId("folded-text")).toHaveAttribute("data-folded", "false");
  await expect(bytes.getByTestId("fold-toggle")).toHaveText("show less");
  await bytes.getByTestId("fold-toggle").click();
  await expect(bytes.getByTestId("folded-text")).toHaveAttribute("data-folded", "true");
  raw.expectNoConsoleErrors();
});

test("a DLQ entry leads to the message it was made from", async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  // Not UTF-8: the parse stage dead-letters it (invalid_unicode) under the same key, with where it came from.
  const key = `topics-bad-${run}`;
  const producer = new Kafka({ clientId: "e2e-topics", brokers: parseKafkaCluster(process.env).brokers }).producer();
  await producer.connect();
  await producer.send({ topic: "agent.results", messages: [{ key, value: Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]) }] });
  await producer.disconnect();

  const dlq = new TopicMessagesPage(page, "agent.results.dlq");
  await dlq.gotoQuery(`key=${key}`);
  await expect.poll(async () => { await dlq.refresh(); return dlq.message(key).count(); }, { timeout: 120_000, intervals: [3_000] }).toBe(1);
  const entry = dlq.message(key);
  await expect(entry.getByTestId("message-json")).toContainText("invalid_unicode");
  await dlq.screenshot(testInfo, "dlq-entry");
  dlq.expectNoConsoleErrors();

  await dlq.link(entry, "original").click();
  await expect(page).toHaveURL(/\/topics\/agent\.results\?(.*&)?offset=\d+/);
  const raw = new TopicMessagesPage(page, "agent.results");
  await expect(raw.messages()).toHaveCount(1);
  await expect(raw.message(key).getByTestId("message-value-bytes")).toHaveAttribute("data-encoding", "base64");
  await raw.screenshot(testInfo, "dlq-original");
  raw.expectNoConsoleErrors();
});
