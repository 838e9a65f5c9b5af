import type { Locator, Page } from "@playwright/test";
import { ConsolePage } from "./console-page";

export class OverviewPage extends ConsolePage {
  constructor(page: Page) {
    super(page, "/", "overview-page");
  }
  /** The lag stream's first event: the consumer lag says more than "—" (a count, caught up, or unreachable). */
  override get settled(): Locator {
    return this.page.getByTestId("overview-lag").filter({ hasNotText: /^—$/ });
  }
  stageStatus(stage: "kafka" | "parse" | "embed-worker" | "embedding" | "indexer"): Locator {
    return this.page.getByTestId(`stage-${stage}-status`);
  }
  async quickSearch(text: string) {
    await this.page.getByTestId("quick-search-input").fill(text);
    await this.page.getByTestId("quick-search-submit").click();
  }
  /** "DLQ records": entries in both DLQs, and the line per stage under it. */
  get dlqCount(): Locator {
    return this.page.getByTestId("overview-dlq");
  }
  get dlqStages(): Locator {
    return this.page.getByTestId("overview-dlq-stages");
  }
  get quickResults(): Locator {
    return this.page.getByTestId("quick-search-result");
  }
}
