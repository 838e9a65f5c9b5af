import type { Locator, Page } from "@playwright/test";
import { ConsolePage } from "./console-page";

export class MonitoringPage extends ConsolePage {
  constructor(page: Page) {
    super(page, "/monitoring", "monitoring-page");
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
}

export class LagPage extends ConsolePage {
  constructor(page: Page) {
    super(page, "/lag", "lag-page");
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
}

export class DlqPage extends ConsolePage {
  constructor(page: Page) {
    super(page, "/dlq", "dlq-page");
  }
  row(docId: string): Locator {
    return this.page.locator(`[data-testid="dlq-row"][data-doc-id="${docId}"]`);
  }
  async refresh() {
    await this.page.getByTestId("dlq-refresh").click();
  }
}
