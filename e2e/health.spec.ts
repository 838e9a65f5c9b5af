import { expect, test } from "@playwright/test";
import { HealthPage } from "./pages/health-page";

test.describe("Health page", () => {
  test("shows Kafka, the embedding service, the parse worker, the embed-worker, the indexer and the console ok, with latency, targets and charts, without console errors", async ({ page }, testInfo) => {
    const problems: string[] = [];
    page.on("console", (msg) => {
      if (msg.type() === "error") problems.push(`console: ${msg.text()}`);
    });
    page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));

    const health = new HealthPage(page);
    await health.goto();

    await health.expectStatus("kafka", "ok");
    await health.expectStatus("embedding-service", "ok");
    await health.expectStatus("parse-worker", "ok");
    await health.expectStatus("embed-worker", "ok");
    await health.expectStatus("indexer", "ok");
    await health.expectStatus("console", "ok");
    expect((await health.componentNames())[0]).toBe("kafka");
    await expect(health.latency("kafka")).toHaveText(/^\d+(\.\d+)? (ms|s)$/);
    await expect(health.target("kafka")).toHaveText(/^[\w.-]+:\d+(,[\w.-]+:\d+)*$/);
    await expect(health.error("kafka")).toHaveCount(0);

    // The page keeps polling: the Kafka chart fills with more than one sample.
    await expect.poll(() => health.sampleCount("kafka")).toBeGreaterThan(1);
    await expect(health.chart("kafka").locator("svg.recharts-surface")).toBeVisible();

    // Kept as a file under test-results/ and attached to the report.
    const shot = testInfo.outputPath("health-page.png");
    await page.screenshot({ path: shot, fullPage: true });
    await testInfo.attach("health-page", { path: shot, contentType: "image/png" });
    expect(problems).toEqual([]);
  });

  test("is one click away from the console's home", async ({ page }) => {
    await page.goto("/");
    await page.getByTestId("nav-health").click();
    const health = new HealthPage(page);
    await expect(page).toHaveURL(/\/health$/);
    await expect(health.row("kafka")).toBeVisible();
    await expect(page.getByTestId("nav-health")).toHaveAttribute("aria-current", "page");
  });
});
