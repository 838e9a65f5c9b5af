import { expect, type Locator, type Page, type TestInfo } from "@playwright/test";

/** Base of the console's page objects: navigation, console-error capture, screenshots. */
export class ConsolePage {
  readonly problems: string[] = [];

  constructor(
    readonly page: Page,
    readonly path: string,
    readonly testId: string,
  ) {
    page.on("console", (msg) => {
      if (msg.type() === "error") this.problems.push(`console: ${msg.text()}`);
    });
    page.on("pageerror", (err) => this.problems.push(`pageerror: ${err.message}`));
  }

  async goto() {
    await this.page.goto(this.path);
    await expect(this.page.getByTestId(this.testId)).toBeVisible();
  }

  /**
   * Visible once the page shows its first live data, or says its source is
   * unreachable: what a test waits for before judging the page. A page with no
   * live data is settled once it is there. (Not `networkidle`: Playwright stopped
   * counting EventSource connections for it, so it no longer waits for a stream's
   * first event.)
   */
  get settled(): Locator {
    return this.page.getByTestId(this.testId);
  }

  /** Kept under test-results/ and attached to the report. */
  async screenshot(testInfo: TestInfo, name: string) {
    const file = testInfo.outputPath(`${name}.png`);
    await this.page.screenshot({ path: file, fullPage: true });
    await testInfo.attach(name, { path: file, contentType: "image/png" });
  }

  expectNoConsoleErrors() {
    expect(this.problems).toEqual([]);
  }
}
