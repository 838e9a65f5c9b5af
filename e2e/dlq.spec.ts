import { readFile } from "node:fs/promises";
import { expect, test } from "@playwright/test";
import { Kafka } from "kafkajs";
import { OverviewPage } from "./pages/overview-page";
import { DlqPage } from "./pages/simple-pages";
import { parseKafkaCluster } from "../lib/config/shared";
import { runId } from "../tests/harness/unique";

/**
 * The parse stage's DLQ in the console: a raw message the parse stage rejects
 * shows on the DLQ page with its stage and its original message, is counted
 * on the Overview, downloads with a stage column, and redrives back to
 * agent.results as it was (the parse stage rejects it again, one replay up).
 */
const run = runId();
// The stack's brokers (e2e/global-setup.ts exports KAFKA_BOOTSTRAP_SERVERS), read as every process reads them.
const brokers = () => parseKafkaCluster(process.env).brokers;

test("a parse-stage entry shows with its stage and original, is counted, downloads and redrives", async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  // Not UTF-8: the parse stage dead-letters it as invalid_unicode, keeping the bytes as base64.
  const key = `bad-parse-${run}`;
  const kafka = new Kafka({ clientId: "e2e-dlq", brokers: brokers() });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: "agent.results", messages: [{ key, value: Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), headers: { "e2e-run": run } }] });
  await producer.disconnect();

  const dlq = new DlqPage(page);
  await dlq.goto();
  await dlq.filterStage("parse");
  await expect.poll(async () => { await dlq.refresh(); return dlq.rowByOriginalKey(key).count(); }, { timeout: 120_000, intervals: [3_000] }).toBe(1);
  const row = dlq.rowByOriginalKey(key);
  await expect(row.getByTestId("dlq-stage")).toHaveText("parse");
  await expect(row.getByTestId("dlq-reason")).toHaveText("invalid_unicode");

  await row.click();
  await expect(dlq.original).toBeVisible();
  await expect(dlq.original.getByTestId("dlq-original-key")).toContainText(key);
  await expect(dlq.original.getByTestId("dlq-original-value")).toHaveAttribute("data-encoding", "base64");
  await expect(dlq.original.getByTestId("dlq-original-value")).toHaveAttribute("data-truncated", "false");
  await expect(dlq.original.getByTestId("dlq-original-value")).toContainText("9 bytes");
  await expect(dlq.original.getByTestId("dlq-original-header").first()).toContainText("e2e-run");
  await dlq.screenshot(testInfo, "dlq-parse-entry");

  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("dlq-download-csv").click()]);
  const file = testInfo.outputPath("dlq-parse.csv");
  await download.saveAs(file);
  const csv = await readFile(file, "utf8");
  expect(csv.split("\r\n")[0]).toContain(",stage,dlq,");
  // The stage and DLQ columns sit side by side: this entry's say parse, agent.results.dlq.
  expect(csv.split("\r\n").find((l) => l.includes(key))).toMatch(/,parse,agent\.results\.dlq,/);

  await dlq.redrive(row);
  await expect(dlq.redriveResult).toHaveText(/redriven 1/);
  // Re-sent to agent.results as it was: the parse stage rejects it again, now with one replay.
  await expect.poll(async () => { await dlq.refresh(); return dlq.rowByOriginalKey(key).count(); }, { timeout: 120_000, intervals: [3_000] }).toBe(2);
  await expect(dlq.rowByOriginalKey(key).first().locator("td").last()).toHaveText("1");
  await dlq.screenshot(testInfo, "dlq-parse-redriven");
  dlq.expectNoConsoleErrors();

  const overview = new OverviewPage(page);
  await overview.goto();
  await expect(overview.dlqStages).toHaveText(/parse [1-9]/, { timeout: 30_000 });
  await overview.screenshot(testInfo, "overview-dlq-count");
});
