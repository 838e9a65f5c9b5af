import { expect, test } from "@playwright/test";
import { Kafka, logLevel } from "kafkajs";
import { indexerAssigner } from "../lib/kafka/indexer-group";
import { SearchPage, ShardsPage } from "./pages/simple-pages";
import { parseKafkaCluster } from "../lib/config/shared";

/**
 * A kNN answer that could not search every partition says so, on the real
 * stack: a stand-in member joins the indexers' group (the stack's defaults:
 * INDEXER_GROUP emb-indexer, EMBED_OUTPUT_TOPIC embeddings) advertising an
 * address where nothing answers, as an indexer that died right after taking
 * its partitions. The group gives it a partition; the console asks it, gets
 * no answer, and the Search page names that partition and the instance. When
 * it leaves, the stack's indexer takes the partition back, rebuilds it from
 * the topic, and answers are complete again (checked, so the specs after this
 * one find the stack as it was).
 */
const GHOST = "zz-e2e-unanswering-indexer";
// The stack's brokers (e2e/global-setup.ts exports KAFKA_BOOTSTRAP_SERVERS), read as every process reads them.
const brokers = () => parseKafkaCluster(process.env).brokers;

test("a search while an indexer of the group does not answer shows which partitions were not searched", async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  const kafka = new Kafka({ clientId: "e2e-ghost-indexer", brokers: brokers(), logLevel: logLevel.NOTHING });
  // Port 9 (discard) has no listener here: every call to this member is refused, as to a killed indexer.
  const ghost = kafka.consumer({ groupId: "emb-indexer", partitionAssigners: [indexerAssigner({ instance: GHOST, url: "http://127.0.0.1:9" })], sessionTimeout: 10_000 });
  // It must not read or commit anything: it only holds its partitions.
  ghost.on(ghost.events.GROUP_JOIN, () => ghost.pause([{ topic: "embeddings" }]));
  await ghost.connect();
  await ghost.subscribe({ topic: "embeddings", fromBeginning: true });
  await ghost.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: async () => {} });

  const search = new SearchPage(page);
  try {
    await search.goto();
    await expect
      .poll(() => askAndRead(search, "a question while an indexer is away", () => search.partialNotice.getAttribute("data-reason", { timeout: 1_000 }).catch(() => null)), { timeout: 90_000, intervals: [2_000] })
      .toBe("failed");
    await expect(search.partialNotice).toContainText("An indexer failed");
    await expect(page.getByTestId("partial-message")).toContainText(new RegExp(`of \\d+ partitions not searched: indexer ${GHOST} failed \\(unreachable\\) \\(partition \\d\\)`));
    await expect(page.getByTestId("partial-instances")).toContainText(`${GHOST}: unreachable`);
    await search.screenshot(testInfo, "search-partial");

    const shards = new ShardsPage(page);
    await shards.goto();
    await expect(shards.indexerInstances.filter({ hasText: GHOST })).toContainText("unreachable");
    await expect(page.getByTestId("shards-partial")).toBeVisible();
    await shards.screenshot(testInfo, "shards-partial");
  } finally {
    await ghost.disconnect();
  }

  // The partition comes back to the stack's indexer, which rebuilds it: complete answers again.
  await search.goto();
  await expect
    .poll(async () => {
      await search.searchText("a question after the indexer left", 5);
      await expect(search.results).toBeVisible({ timeout: 15_000 });
      return search.partialNotice.count();
    }, { timeout: 120_000, intervals: [2_000] })
    .toBe(0);
  search.expectNoConsoleErrors();
});

/** Search, wait for the answer's card, then read it; null when no answer came (the poll asks again). */
async function askAndRead<T>(search: SearchPage, text: string, read: () => Promise<T>): Promise<T | null> {
  try {
    await search.searchText(text, 5);
    await search.results.waitFor({ state: "visible", timeout: 15_000 });
    return await read();
  } catch {
    return null;
  }
}
