import type { Locator, Page } from "@playwright/test";
import { ConsolePage } from "./console-page";

export class MonitoringPage extends ConsolePage {
  constructor(page: Page) {
    super(page, "/monitoring", "monitoring-page");
  }
  /** The embedding service's stream has answered: its badge says more than "waiting". */
  override get settled(): Locator {
    return this.infermeshStatus.filter({ hasNotText: /^waiting$/ });
  }
  get infermeshStatus(): Locator {
    return this.page.getByTestId("infermesh-status");
  }
  chartPoints(testId: string): Promise<number> {
    return this.page.getByTestId(testId).getAttribute("data-points").then(Number);
  }
}

export class ShardsPage extends ConsolePage {
  constructor(page: Page) {
    super(page, "/shards", "shards-page");
  }
  /** The shard counts, or the notice that no indexer answered. */
  override get settled(): Locator {
    return this.page.getByTestId("shards-total").or(this.page.getByTestId("shards-error"));
  }
  /** One "model · dims" entry per model the index holds. */
  get modelDims(): Locator {
    return this.page.getByTestId("model-dims");
  }
  /** One row per indexer instance of the group. */
  get indexerInstances(): Locator {
    return this.page.getByTestId("indexer-instance");
  }
}

export class LagPage extends ConsolePage {
  constructor(page: Page) {
    super(page, "/lag", "lag-page");
  }
  /** The lag stream's first event: a total, or the notice that Kafka is unreachable. */
  override get settled(): Locator {
    return this.page.getByTestId("lag-total").filter({ hasText: /\d/ }).or(this.page.getByTestId("lag-error"));
  }
  chartPoints(): Promise<number> {
    return this.page.getByTestId("chart-lag").getAttribute("data-points").then(Number);
  }
  total(): Promise<number> {
    return this.page.getByTestId("lag-total").textContent().then((t) => Number((t ?? "").replace(/[^\d]/g, "")));
  }
}

export class IngestPage extends ConsolePage {
  constructor(page: Page) {
    super(page, "/ingest", "ingest-page");
  }
  async send(texts: string[]) {
    await this.page.getByTestId("ingest-texts").fill(texts.join("\n"));
    await this.page.getByTestId("ingest-submit").click();
  }
  get result(): Locator {
    return this.page.getByTestId("ingest-result");
  }
}

export class SearchPage extends ConsolePage {
  constructor(page: Page) {
    super(page, "/search", "search-page");
  }
  async searchText(text: string, k = 5) {
    await this.page.getByTestId("search-mode").selectOption("text");
    await this.page.getByTestId("search-input").fill(text);
    await this.page.getByTestId("search-k").fill(String(k));
    await this.page.getByTestId("search-submit").click();
  }
  get resultDocIds(): Locator {
    return this.page.getByTestId("result-doc-id");
  }
  /** The notice of an answer that did not search every partition (why, which, who answered). */
  get partialNotice(): Locator {
    return this.page.getByTestId("partial-notice");
  }
  get results(): Locator {
    return this.page.getByTestId("search-results");
  }
}

export class DlqPage extends ConsolePage {
  constructor(page: Page) {
    super(page, "/dlq", "dlq-page");
  }
  /** The entries read, or the notice that the DLQ could not be read. */
  override get settled(): Locator {
    return this.page.getByTestId("dlq-list").or(this.page.getByTestId("dlq-error"));
  }
  row(docId: string): Locator {
    return this.page.locator(`[data-testid="dlq-row"][data-doc-id="${docId}"]`);
  }
  /** Rows whose original message had this (UTF-8) key: parse-stage entries have no doc_id. */
  rowByOriginalKey(key: string): Locator {
    return this.page.locator(`[data-testid="dlq-row"][data-original-key="${key}"]`);
  }
  async refresh() {
    await this.page.getByTestId("dlq-refresh").click();
  }
  async filterStage(stage: "" | "parse" | "embed" | "index") {
    await this.page.getByTestId("dlq-stage-filter").selectOption(stage);
  }
  /** The opened entry's original message: key, value, headers. */
  get original(): Locator {
    return this.page.getByTestId("dlq-original");
  }
  async redrive(row: Locator) {
    await row.getByTestId("dlq-select").check();
    await this.page.getByTestId("dlq-redrive-selected").click();
  }
  get redriveResult(): Locator {
    return this.page.getByTestId("dlq-redrive-result");
  }
}
