import { expect, test } from "@playwright/test";
import { Kafka } from "kafkajs";
import { DlqPage, IngestPage, LagPage, SearchPage, ShardsPage } from "./pages/simple-pages";
import { parseKafkaCluster } from "../lib/config/shared";
import { runId } from "../tests/harness/unique";

/**
 * End to end through the whole pipeline. Needs the parse worker, the
 * embed-worker and the indexer in the launcher (scripts/launcher/processes.ts);
 * until they join, these tests are reported as failing with an explicit cause.
 */
const run = runId();
// The stack's brokers (e2e/global-setup.ts exports KAFKA_BOOTSTRAP_SERVERS), read as every process reads them.
const brokers = () => parseKafkaCluster(process.env).brokers;

test("ingest three texts, then a text search ranks the paraphrase first", async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  const ingest = new IngestPage(page);
  await ingest.goto();
  const texts = [`A large furry dog runs in the park ${run}`, `Quarterly revenue grew by four percent ${run}`, `The recipe needs two cups of flour ${run}`];
  await ingest.send(texts);
  await expect(ingest.result).toHaveText(/sent 3 to /);
  await ingest.screenshot(testInfo, "ingest-sent");

  const search = new SearchPage(page);
  await search.goto();
  // The paraphrase of the first text; its doc_id is sha256 of the text, so compare by what the indexer returns first.
  const expected = await sha256Hex(texts[0]!);
  await expect
    .poll(async () => {
      await search.searchText(`A big hairy canine jogs outdoors ${run}`, 3);
      return search.resultDocIds.first().textContent({ timeout: 5_000 }).catch(() => null);
    }, { timeout: 150_000, intervals: [3_000] })
    .toBe(expected);
  await search.screenshot(testInfo, "search-paraphrase");
  search.expectNoConsoleErrors();

  // The index holds the default model's vectors, and says so with their dimension.
  const shards = new ShardsPage(page);
  await shards.goto();
  await expect(shards.modelDims).toHaveText(["all-MiniLM-L6-v2 · 384"]);
  await shards.screenshot(testInfo, "shards-model-dims");
  shards.expectNoConsoleErrors();
});

test("the DLQ page shows a bad record sent on purpose, downloads it, redrives it", async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  // An embedding_input record with empty text: the embed-worker dead-letters it as empty_text.
  const docId = `bad-${run}`;
  const kafka = new Kafka({ clientId: "e2e", brokers: brokers() });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: "embedding_input", messages: [{ key: docId, value: JSON.stringify({ text: "   ", topic: "agent.results", kafka_ts: Date.now() / 1000, doc_id: docId }) }] });
  await producer.disconnect();

  const dlq = new DlqPage(page);
  await dlq.goto();
  await expect.poll(async () => { await dlq.refresh(); return dlq.row(docId).count(); }, { timeout: 120_000, intervals: [3_000] }).toBe(1);
  await dlq.row(docId).click();
  await expect(page.getByTestId("dlq-payload")).toContainText(docId);

  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("dlq-download-jsonl").click()]);
  const file = testInfo.outputPath("dlq.jsonl");
  await download.saveAs(file);
  const { readFile } = await import("node:fs/promises");
  expect(await readFile(file, "utf8")).toContain(docId);

  await dlq.row(docId).getByTestId("dlq-select").check();
  await page.getByTestId("dlq-redrive-selected").click();
  await expect(page.getByTestId("dlq-redrive-result")).toHaveText(/redriven 1/);
  await dlq.screenshot(testInfo, "dlq-redriven");
  dlq.expectNoConsoleErrors();
});

test("the lag chart moves while records wait for the embed-worker", async ({ page }) => {
  test.setTimeout(120_000);
  const lag = new LagPage(page);
  await lag.goto();
  await expect.poll(() => lag.chartPoints(), { timeout: 30_000 }).toBeGreaterThan(2);
  lag.expectNoConsoleErrors();
});

async function sha256Hex(text: string): Promise<string> {
  const { createHash } = await import("node:crypto");
  return createHash("sha256").update(text, "utf8").digest("hex");
}
