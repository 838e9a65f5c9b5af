import { expect, test } from "@playwright/test";
import { OverviewPage } from "./pages/overview-page";

/** The processes the launcher starts for the e2e stack (e2e/global-setup.ts), in start order. */
const supervised = ["kafka", "infermesh", "parse-worker", "embed-worker", "emb-indexer", "console"];

test.describe("Supervision", () => {
  test("the Overview lists every process npm start supervises, running, without a red badge on a healthy stack", async ({ page }, testInfo) => {
    const overview = new OverviewPage(page);
    await overview.goto();
    const card = page.getByTestId("supervisor-card");
    await expect(card).toBeVisible();
    const rows = card.locator("tbody tr[data-testid^='supervisor-row-']");
    await expect(rows).toHaveCount(supervised.length);
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-testid")?.replace("supervisor-row-", "")))).toEqual(supervised);
    for (const name of supervised) {
      await expect(page.getByTestId(`supervisor-state-${name}`)).toHaveText("running");
      await expect(page.getByTestId(`supervisor-restarts-${name}`)).toHaveText(/^\d+$/);
    }
    await expect(card.locator("[data-tone='down']")).toHaveCount(0);
    await overview.screenshot(testInfo, "overview-supervision");
    overview.expectNoConsoleErrors();
  });

  test("the Health page shows the same processes under the components", async ({ page }) => {
    await page.goto("/health");
    await expect(page.getByTestId("supervisor-table")).toBeVisible();
    await expect(page.getByTestId("supervisor-state-embed-worker")).toHaveText("running");
  });
});
