import { expect, test, type Page } from "@playwright/test";
import { HealthPage } from "./pages/health-page";
import { OverviewPage } from "./pages/overview-page";
import { LagPage, MonitoringPage, SearchPage } from "./pages/simple-pages";
import { runId } from "../tests/harness/unique";

/**
 * Issue #14's browser checks, "the console tells the truth at a glance", on the
 * default stack of e2e/global-setup.ts (npm start's launcher: the TypeScript
 * parse worker, no Spark, no RedDB):
 * - a search result shows its text (and offers "more like this");
 * - after a run drains, the Overview and the Lag page show lag 0 and "caught up";
 * - no red badge anywhere on the Overview, Monitoring and Health, and what the
 *   stack does not run (Spark, RedDB) is grey "not in use";
 * - a reload shows the previous minutes on every chart of Monitoring and Lag;
 * - no two tick labels of a chart axis overlap, at every window the selector offers;
 * - a screenshot of each page at 1440×900, kept as a test artefact.
 * The tests run in file order on one worker; each waits for what it needs
 * rather than relying on the previous one having passed.
 */

const run = runId();
const subjects = ["lighthouse keepers", "sourdough starters", "glacier surveys", "violin varnish", "tram timetables", "beekeeping in winter", "tide tables", "paper marbling", "orbital debris", "moss gardens", "chess openings", "river dredging"];
/** One text per subject, unique to this run, so a search finds this run's records and nothing older. */
const texts = subjects.map((s, i) => `Notes on ${s}, item ${i + 1} of run ${run}: what an operator would want to read in a search result.`);

/** The default stack's consumer groups (lib/config/variables.ts: PARSE_GROUP, EMBED_GROUP, INDEXER_GROUP). */
const pipelineGroups = ["parse-worker", "embed-worker", "emb-indexer"];
/** The console polls its upstreams every 3 s (5 s for Spark and the DLQs): lib/sse/streams.ts. */
const POLL_MS = 3_000;

test.use({ viewport: { width: 1440, height: 900 } });

test.beforeAll(async ({ playwright }, testInfo) => {
  const api = await playwright.request.newContext({ baseURL: testInfo.project.use.baseURL });
  const res = await api.post("/api/ingest", { data: { texts } });
  expect(res.status(), await res.text()).toBe(200);
  expect(await res.json()).toMatchObject({ sent: texts.length });
  await api.dispose();
});

test("a search result shows its text, and offers more like this", async ({ page }, testInfo) => {
  test.setTimeout(240_000);
  const search = new SearchPage(page);
  await search.goto();
  const wanted = texts[3]!;
  const first = page.getByTestId("search-result").first();
  // Indexed once parse → embed → index have run: ask again until the text itself comes back first.
  await expect
    .poll(async () => {
      await search.searchText(wanted, 3);
      return first.getByTestId("search-result-text").textContent({ timeout: 5_000 }).catch(() => null);
    }, { timeout: 200_000, intervals: [3_000] })
    .toContain(wanted);
  await expect(first.getByTestId("more-like-this")).toBeVisible();
  await search.screenshot(testInfo, "search-result-text");
  await first.getByTestId("more-like-this").click();
  await expect(page.getByTestId("search-result").first()).toBeVisible();
  await expect(page.getByTestId("search-result-text").first()).not.toBeEmpty();
  search.expectNoConsoleErrors();
});

test("after the run drains, the Overview and the Lag page show lag 0 and caught up", async ({ page }, testInfo) => {
  test.setTimeout(240_000);
  const lag = new LagPage(page);
  await lag.goto();
  // Every record of the run consumed by every stage: each pipeline group caught up.
  for (const group of pipelineGroups) {
    await expect(page.getByTestId(`lag-group-${group}`), `group ${group}`).toContainText(/caught up/i, { timeout: 200_000 });
  }
  await expect(page.getByTestId("lag-total")).toHaveText(/total 0\b/);
  await lag.screenshot(testInfo, "lag-caught-up");

  const overview = new OverviewPage(page);
  await overview.goto();
  await expect(page.getByTestId("overview-lag")).toContainText(/^0\b/);
  await expect(page.getByTestId("overview-page")).toContainText(/caught up/i);
  await overview.screenshot(testInfo, "overview-caught-up");
  lag.expectNoConsoleErrors();
  overview.expectNoConsoleErrors();
});

/** Visible elements styled red: badges with the `down` tone and red text. */
async function redOnPage(page: Page): Promise<string[]> {
  return page.locator("[data-tone='down'], .text-down, .bg-down").evaluateAll((els) =>
    els
      .filter((e) => (e as HTMLElement).offsetParent !== null || e.getClientRects().length > 0)
      .map((e) => `${e.closest("[data-testid]")?.getAttribute("data-testid") ?? e.tagName}: ${(e.textContent ?? "").trim().slice(0, 120)}`),
  );
}

test("the default stack shows no red badge: Spark and RedDB are grey 'not in use' with why", async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  const health = new HealthPage(page);
  await health.goto();
  for (const name of ["kafka", "embedding-service", "parse-worker", "embed-worker", "indexer", "console"]) await health.expectStatus(name, "ok");
  for (const name of ["spark", "reddb"]) {
    await expect(health.status(name)).toHaveText("not in use");
    await expect(health.status(name)).toHaveAttribute("data-tone", "off");
  }
  await expect(page.getByTestId("health-why-spark")).toContainText("TypeScript parse worker");
  await expect(page.getByTestId("health-why-reddb")).toContainText("REDDB_URL");
  await expect(page.getByTestId("health-overall-status")).toHaveAttribute("data-tone", "ok");
  expect(await redOnPage(page), "red on the Health page").toEqual([]);
  await shoot(page, testInfo, "health");

  const monitoring = new MonitoringPage(page);
  await monitoring.goto();
  await expect(page.getByTestId("spark-status")).toHaveText("not in use");
  await expect(page.getByTestId("spark-not-in-use")).toContainText("TypeScript parse worker");
  // Every panel has had its first event: no badge still says "waiting".
  await expect(page.getByTestId("monitoring-page").getByText("waiting", { exact: true })).toHaveCount(0);
  expect(await redOnPage(page), "red on the Monitoring page").toEqual([]);
  monitoring.expectNoConsoleErrors();

  const overview = new OverviewPage(page);
  await overview.goto();
  for (const stage of ["kafka", "parse", "embed-worker", "embedding", "indexer"] as const) {
    await expect(overview.stageStatus(stage)).not.toHaveText("waiting");
  }
  await expect(page.getByTestId("not-in-use-spark")).toContainText("not in use");
  expect(await redOnPage(page), "red on the Overview").toEqual([]);
  overview.expectNoConsoleErrors();
});

/** `data-points` of every time-series chart on the page, by test id. */
async function chartPoints(page: Page): Promise<Record<string, number>> {
  const all = await page.locator("[data-points]").evaluateAll((els) => els.map((e) => [e.getAttribute("data-testid") ?? "?", Number(e.getAttribute("data-points"))] as const));
  return Object.fromEntries(all);
}

for (const { name, path, testId } of [
  { name: "Monitoring", path: "/monitoring", testId: "monitoring-page" },
  { name: "Lag", path: "/lag", testId: "lag-page" },
]) {
  test(`a reload of ${name} shows the previous minutes on every chart`, async ({ page }) => {
    test.setTimeout(180_000);
    // The console records from its boot: wait until it has a few minutes' worth (at least 30 polls).
    await expect
      .poll(async () => {
        const res = await page.request.get("/api/history?names=lag,embed-worker,infermesh&window=15m");
        if (!res.ok()) return 0;
        const body = (await res.json()) as { events: Record<string, unknown[]> };
        return Math.min(...Object.values(body.events).map((e) => e.length));
      }, { timeout: 150_000, intervals: [5_000] })
      .toBeGreaterThanOrEqual(30);
    await page.goto(path);
    await expect(page.getByTestId(testId)).toBeVisible();
    const started = Date.now();
    await page.reload();
    await expect(page.getByTestId(testId)).toBeVisible();
    const charts = page.locator("[data-points]");
    await expect(charts.first()).toBeVisible();
    // History is one request at load: every chart fills at once, far beyond what live polls could give since the reload.
    await expect.poll(async () => Math.min(...Object.values(await chartPoints(page))), { timeout: 5_000 }).toBeGreaterThan(10);
    const points = await chartPoints(page);
    const livePolls = 1 + Math.ceil((Date.now() - started) / POLL_MS);
    for (const [chart, n] of Object.entries(points)) expect(n, `${chart}: ${n} points, live alone gives at most ${livePolls}`).toBeGreaterThan(livePolls);
  });
}

/**
 * Tick labels of an axis: recharts 3 draws them apart from the axis line, in a
 * `g.recharts-cartesian-axis-tick-labels` group per axis (`recharts-xAxis-…` /
 * `recharts-yAxis-…`), each a `text.recharts-cartesian-axis-tick-value`;
 * recharts 2 kept them in `.recharts-cartesian-axis-tick` under the axis.
 */
const AXIS_LABEL_GROUPS = ".recharts-cartesian-axis-tick-labels, .recharts-cartesian-axis";
const TICK_LABEL = "text.recharts-cartesian-axis-tick-value, .recharts-cartesian-axis-tick text";

/** Pairs of tick labels whose boxes intersect, per axis of every chart on the page. */
async function overlappingTicks(page: Page): Promise<string[]> {
  return page.locator(AXIS_LABEL_GROUPS).evaluateAll((axes, tickLabel) => {
    const found: string[] = [];
    for (const axis of axes) {
      const chart = axis.closest("[data-testid]")?.getAttribute("data-testid") ?? "?";
      const cls = axis.getAttribute("class") ?? "";
      const kind = cls.includes("xAxis") ? "x" : cls.includes("yAxis") ? "y" : "axis";
      const labels = [...axis.querySelectorAll(tickLabel)].map((t) => ({ text: t.textContent ?? "", r: t.getBoundingClientRect() })).filter((l) => l.r.width > 0);
      for (let i = 0; i < labels.length; i++) {
        for (let j = i + 1; j < labels.length; j++) {
          const a = labels[i]!.r;
          const b = labels[j]!.r;
          // Touching edges are fine; half a pixel of anti-aliasing is not an overlap.
          if (a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5) found.push(`${chart} ${kind}: "${labels[i]!.text}" overlaps "${labels[j]!.text}"`);
        }
      }
    }
    return found;
  }, TICK_LABEL);
}

test("no two tick labels of a chart axis overlap, on Monitoring, Lag and the Overview at every window, and on Health", async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  // The check itself can fail: two labels drawn as "16:1616:00" are found, two apart are not.
  await page.setContent(`<div data-testid="fixture"><svg width="400" height="40"><g class="recharts-cartesian-axis-tick-labels recharts-xAxis-tick-labels">
    <text class="recharts-cartesian-axis-tick-value" x="100" y="20">16:16</text><text class="recharts-cartesian-axis-tick-value" x="130" y="20">16:00</text>
    <text class="recharts-cartesian-axis-tick-value" x="300" y="20">18:00</text></g></svg></div>`);
  expect(await overlappingTicks(page)).toEqual(['fixture x: "16:16" overlaps "16:00"']);
  await page.goto("/monitoring");
  const select = page.getByTestId("window-select");
  await expect(select).toBeVisible();
  const windows = await select.locator("option").evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
  expect(windows).toEqual(["15m", "1h", "6h", "24h"]);
  const overlaps: string[] = [];
  // The Overview's stage charts follow ?window= too, without a selector of their own.
  for (const path of ["/monitoring", "/lag", "/"]) {
    for (const w of windows) {
      await page.goto(`${path}?window=${w}`);
      if (path !== "/") await expect(page.getByTestId("window-select")).toHaveValue(w);
      // Axes drawn with their ticks on every chart.
      await expect.poll(() => page.locator("[data-points]").count()).toBeGreaterThan(0);
      await expect.poll(async () => {
        const perChart = await page.locator("[data-points]").evaluateAll((els, tickLabel) => els.map((e) => e.querySelectorAll(tickLabel).length), TICK_LABEL);
        return Math.min(...perChart);
      }).toBeGreaterThan(0);
      overlaps.push(...(await overlappingTicks(page)).map((o) => `${path}?window=${w} ${o}`));
      await shoot(page, testInfo, `${path.slice(1) || "overview"}-window-${w}`);
    }
  }
  // The Health page's probe-latency charts span the samples taken since it opened.
  await page.goto("/health");
  await expect.poll(() => page.locator(`[data-testid^="health-chart-"] ${TICK_LABEL}`).count()).toBeGreaterThan(0);
  overlaps.push(...(await overlappingTicks(page)).map((o) => `/health ${o}`));
  expect(overlaps).toEqual([]);
});

/** A 1440×900 view of the page and the full page, both kept under test-results/ and attached to the report. */
async function shoot(page: Page, testInfo: import("@playwright/test").TestInfo, name: string) {
  for (const [suffix, fullPage] of [["1440x900", false], ["full", true]] as const) {
    const file = testInfo.outputPath(`${name}-${suffix}.png`);
    await page.screenshot({ path: file, fullPage });
    await testInfo.attach(`${name}-${suffix}`, { path: file, contentType: "image/png" });
  }
}

test("a screenshot of every page at 1440×900 is kept", async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  expect(page.viewportSize()).toEqual({ width: 1440, height: 900 });
  for (const { name, path, testId } of [
    { name: "overview", path: "/", testId: "overview-page" },
    { name: "monitoring", path: "/monitoring", testId: "monitoring-page" },
    { name: "lag", path: "/lag", testId: "lag-page" },
    { name: "search", path: `/search`, testId: "search-page" },
    { name: "shards", path: "/shards", testId: "shards-page" },
    { name: "dlq", path: "/dlq", testId: "dlq-page" },
    { name: "ingest", path: "/ingest", testId: "ingest-page" },
    { name: "health", path: "/health", testId: "health-table" },
  ]) {
    await page.goto(path);
    await expect(page.getByTestId(testId)).toBeVisible();
    // The live panels have had their first events (nothing left "waiting") before the picture.
    await expect(page.getByText("waiting", { exact: true })).toHaveCount(0);
    if (name === "search") {
      await new SearchPage(page).searchText(texts[0]!, 5);
      await expect(page.getByTestId("search-result").first()).toBeVisible();
    }
    await shoot(page, testInfo, name);
  }
});
