import { expect, test } from "@playwright/test";
import { OverviewPage } from "./pages/overview-page";
import { DlqPage, IngestPage, LagPage, MonitoringPage, SearchPage, ShardsPage } from "./pages/simple-pages";
import { TopicsPage } from "./pages/topics-page";

/**
 * Every page loads without console errors, whatever is running: with only
 * Kafka and the embedding service in the launcher today, the other panels say
 * "unreachable" / "not running" instead of failing. Screenshots of each page.
 */
const pages = [
  { name: "overview", make: (p: import("@playwright/test").Page) => new OverviewPage(p) },
  { name: "monitoring", make: (p: import("@playwright/test").Page) => new MonitoringPage(p) },
  { name: "search", make: (p: import("@playwright/test").Page) => new SearchPage(p) },
  { name: "shards", make: (p: import("@playwright/test").Page) => new ShardsPage(p) },
  { name: "dlq", make: (p: import("@playwright/test").Page) => new DlqPage(p) },
  { name: "topics", make: (p: import("@playwright/test").Page) => new TopicsPage(p) },
  { name: "lag", make: (p: import("@playwright/test").Page) => new LagPage(p) },
  { name: "ingest", make: (p: import("@playwright/test").Page) => new IngestPage(p) },
];

for (const { name, make } of pages) {
  test(`${name} page loads without console errors`, async ({ page }, testInfo) => {
    const po = make(page);
    await po.goto();
    // Judge the page once it shows its first live data (or says its source is unreachable).
    await expect(po.settled.first()).toBeVisible();
    await po.screenshot(testInfo, `${name}-page`);
    po.expectNoConsoleErrors();
  });
}

test("overview shows Kafka and the embedding service live", async ({ page }) => {
  const overview = new OverviewPage(page);
  await overview.goto();
  await expect(overview.stageStatus("kafka")).toHaveText("ok");
  await expect(overview.stageStatus("embedding")).toHaveText("healthy");
  overview.expectNoConsoleErrors();
});

test("monitoring charts the embedding service's round trip over time", async ({ page }) => {
  const monitoring = new MonitoringPage(page);
  await monitoring.goto();
  await expect(monitoring.infermeshStatus).toHaveText("healthy");
  await expect.poll(() => monitoring.chartPoints("chart-infermesh-rtt"), { timeout: 20_000 }).toBeGreaterThan(1);
  monitoring.expectNoConsoleErrors();
});

test("an SSE stream answers ?once=1 with one named event", async ({ request }) => {
  const res = await request.get("/api/infermesh/stream?once=1");
  expect(res.headers()["content-type"]).toContain("text/event-stream");
  const body = await res.text();
  expect(body).toMatch(/event: infermesh\ndata: \{.*"status":"healthy"/);
});
