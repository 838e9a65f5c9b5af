import { expect, type Locator, type Page } from "@playwright/test";

/** The Health page (`/health`): one row and one latency chart per component. */
export class HealthPage {
  constructor(readonly page: Page) {}

  async goto(path = "/health") {
    await this.page.goto(path);
    await expect(this.page.getByRole("heading", { level: 1, name: "Health" })).toBeVisible();
  }

  get table(): Locator {
    return this.page.getByTestId("health-table");
  }

  /** Component names in the order the table shows them. */
  async componentNames(): Promise<string[]> {
    const ids = await this.table.locator("tbody tr[data-testid^='health-row-']").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-testid") ?? ""));
    return ids.map((id) => id.replace(/^health-row-/, ""));
  }

  row(name: string): Locator {
    return this.page.getByTestId(`health-row-${name}`);
  }

  /** Badge whose text is `ok` or `down`. */
  status(name: string): Locator {
    return this.page.getByTestId(`health-status-${name}`);
  }

  latency(name: string): Locator {
    return this.page.getByTestId(`health-latency-${name}`);
  }

  target(name: string): Locator {
    return this.page.getByTestId(`health-target-${name}`);
  }

  error(name: string): Locator {
    return this.page.getByTestId(`health-error-${name}`);
  }

  chart(name: string): Locator {
    return this.page.getByTestId(`health-chart-${name}`);
  }

  /** Latency samples the page has collected for a component since it opened. */
  async sampleCount(name: string): Promise<number> {
    const text = (await this.page.getByTestId(`health-samples-${name}`).textContent()) ?? "";
    return Number(/\d+/.exec(text)?.[0] ?? 0);
  }

  async expectStatus(name: string, status: "ok" | "down") {
    await expect(this.status(name)).toHaveText(status);
  }
}
