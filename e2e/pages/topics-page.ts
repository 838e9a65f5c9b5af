import { expect, type Locator, type Page } from "@playwright/test";
import { ConsolePage } from "./console-page";

/** The Topics page (`/topics`): one row per topic of the pipeline. */
export class TopicsPage extends ConsolePage {
  constructor(page: Page) {
    super(page, "/topics", "topics-page");
  }
  /** The table, or the notice that Kafka did not answer. */
  override get settled(): Locator {
    return this.page.getByTestId("topics-list").or(this.page.getByTestId("topics-error"));
  }
  row(name: string): Locator {
    return this.page.locator(`[data-testid="topic-row"][data-name="${name}"]`);
  }
  /** The records figure of a topic as the row carries it (its data attribute: the text may say ≈). */
  records(name: string): Promise<number> {
    return this.row(name).getAttribute("data-records").then(Number);
  }
  async refresh() {
    await this.page.getByTestId("topics-refresh").click();
  }
  async open(name: string) {
    await this.row(name).getByTestId("topic-link").click();
    await expect(this.page.getByTestId("topic-name")).toHaveText(name);
  }
}

/** One topic's messages (`/topics/{name}`): the form, the records read, their links. */
export class TopicMessagesPage extends ConsolePage {
  constructor(page: Page, readonly topic: string) {
    super(page, `/topics/${encodeURIComponent(topic)}`, "topic-messages-page");
  }
  /** An answer: the records read, or why there are none. */
  override get settled(): Locator {
    return this.list.or(this.error).or(this.page.getByTestId("topic-messages-unavailable"));
  }
  async gotoQuery(query: string) {
    await this.page.goto(`${this.path}?${query}`);
    await expect(this.page.getByTestId(this.testId)).toBeVisible();
  }
  get list(): Locator {
    return this.page.getByTestId("topic-messages-list");
  }
  get error(): Locator {
    return this.page.getByTestId("topic-messages-error");
  }
  /** Read the records with this key (a doc_id), through the form. */
  async readKey(key: string) {
    await this.page.getByTestId("messages-key").fill(key);
    await this.page.getByTestId("messages-submit").click();
  }
  /** Read the same query again (new records may have arrived). */
  async refresh() {
    await this.page.getByTestId("topic-messages-refresh").click();
  }
  messages(): Locator {
    return this.page.getByTestId("topic-message");
  }
  message(key: string): Locator {
    return this.page.locator(`[data-testid="topic-message"][data-key="${key}"]`);
  }
  link(message: Locator, rel: "source" | "embedding" | "similar" | "original"): Locator {
    return message.getByTestId(`message-link-${rel}`);
  }
}
