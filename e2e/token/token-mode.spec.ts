import { readFile } from "node:fs/promises";
import type { Page, TestInfo } from "@playwright/test";
import { Kafka } from "kafkajs";
import { ConsolePage } from "../pages/console-page";
import { LoginPage } from "../pages/login-page";
import { OverviewPage } from "../pages/overview-page";
import { DlqPage, IngestPage, LagPage, MonitoringPage, SearchPage, ShardsPage } from "../pages/simple-pages";
import { TopicMessagesPage, TopicsPage } from "../pages/topics-page";
import { expect, test } from "./fixtures";
import { parseKafkaCluster } from "../../lib/config/shared";
import { runId } from "../../tests/harness/unique";

/**
 * The console with CONSOLE_TOKEN set, used as an operator would: log in through
 * the page, use every page (searches, an ingest, pause/resume, the live
 * streams, a DLQ download — all on the session cookie alone), log out.
 * Screenshots of each step are kept under test-results/.
 */
const run = runId();
// The stack's brokers (e2e/global-setup.ts exports KAFKA_BOOTSTRAP_SERVERS), read as every process reads them.
const brokers = () => parseKafkaCluster(process.env).brokers;
const SESSION_COOKIE = "embedline_session";

/** Log in through the form from wherever the console sent the browser, ending on `path`. */
async function logIn(page: Page, token: string, path = "/") {
  await page.goto(path);
  const login = new LoginPage(page);
  await login.expectAt(path);
  await login.logIn(token);
  await expect(page).toHaveURL((url) => url.pathname === path);
}

async function sessionCookie(page: Page): Promise<string> {
  const cookie = (await page.context().cookies()).find((c) => c.name === SESSION_COOKIE);
  expect(cookie, "the login sets the session cookie").toBeDefined();
  // What the contract asks of it: not readable by scripts, never sent cross-site.
  expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/" });
  return cookie!.value;
}

/** The page's own check (its test id), no console errors, a screenshot. */
async function visit(po: ConsolePage, testInfo: TestInfo, name: string) {
  await po.goto();
  expect(new URL(po.page.url()).pathname, `${name} is served, not the login form`).toBe(po.path);
  await po.screenshot(testInfo, name);
}

test("a page asked for without a session leads to the login form, which refuses a wrong token and then returns to it", async ({ page, consoleToken }, testInfo) => {
  const login = new LoginPage(page);
  await page.goto("/");
  await login.expectAt("/");
  await page.goto("/monitoring?tab=1");
  await login.expectAt("/monitoring?tab=1");
  await login.screenshot(testInfo, "login-form");

  await login.logIn(`${consoleToken}-wrong`);
  await expect(login.error).toHaveText("Wrong token.");
  expect(new URL(page.url()).pathname).toBe("/login");
  expect((await page.context().cookies()).map((c) => c.name)).not.toContain(SESSION_COOKIE);
  await login.screenshot(testInfo, "login-wrong-token");

  await login.logIn(consoleToken);
  await expect(page.getByTestId("monitoring-page")).toBeVisible();
  expect(`${new URL(page.url()).pathname}${new URL(page.url()).search}`).toBe("/monitoring?tab=1");
  await sessionCookie(page);
  await expect(page.getByTestId("logout")).toBeVisible();
});

test("every page works on the session cookie: search, ingest, pause and resume, live streams, the DLQ and its download", async ({ page, consoleToken }, testInfo) => {
  test.setTimeout(180_000);
  // A record the embed-worker dead-letters (empty text), so the DLQ page has this run's entry to show and download.
  const docId = `token-bad-${run}`;
  const producer = new Kafka({ clientId: "e2e-token", brokers: brokers() }).producer();
  await producer.connect();
  await producer.send({ topic: "embedding_input", messages: [{ key: docId, value: JSON.stringify({ text: " ", topic: "agent.results", kafka_ts: Date.now() / 1000, doc_id: docId }) }] });
  await producer.disconnect();

  await logIn(page, consoleToken, "/");
  const unauthorized: string[] = [];
  page.on("response", (res) => {
    if (res.status() === 401) unauthorized.push(res.url());
  });

  // Overview: the live stages (SSE on the cookie) and a quick search.
  const overview = new OverviewPage(page);
  await visit(overview, testInfo, "token-overview");
  await expect(overview.stageStatus("kafka")).toHaveText("ok");
  await expect(overview.stageStatus("embedding")).toHaveText("healthy");
  await overview.quickSearch(`anything at all ${run}`);
  await expect(page.getByTestId("quick-search-error")).toHaveCount(0);
  overview.expectNoConsoleErrors();

  // Monitoring: the embedding service's stream charts, and the worker pauses and resumes.
  const monitoring = new MonitoringPage(page);
  await visit(monitoring, testInfo, "token-monitoring");
  await expect(monitoring.infermeshStatus).toHaveText("healthy");
  await expect.poll(() => monitoring.chartPoints("chart-infermesh-rtt"), { timeout: 20_000 }).toBeGreaterThan(1);
  const workerStatus = page.getByTestId("embed-worker-status");
  await expect(workerStatus).toHaveText(/^(ok|degraded)$/, { timeout: 20_000 });
  await page.getByTestId("embed-worker-pause").click();
  await expect(workerStatus).toHaveText("paused", { timeout: 20_000 });
  await monitoring.screenshot(testInfo, "token-monitoring-paused");
  await page.getByTestId("embed-worker-resume").click();
  await expect(workerStatus).not.toHaveText("paused", { timeout: 20_000 });
  monitoring.expectNoConsoleErrors();

  // Lag: the lag stream draws its chart.
  const lag = new LagPage(page);
  await visit(lag, testInfo, "token-lag");
  await expect.poll(() => lag.chartPoints(), { timeout: 30_000 }).toBeGreaterThan(1);
  lag.expectNoConsoleErrors();

  // Ingest: two texts of this run go to Kafka.
  const ingest = new IngestPage(page);
  await visit(ingest, testInfo, "token-ingest");
  const texts = [`The lighthouse keeper counts ships at dawn ${run}`, `Fresh basil grows best in warm sunlight ${run}`];
  await ingest.send(texts);
  await expect(ingest.result).toHaveText(/^sent 2 to /);
  await ingest.screenshot(testInfo, "token-ingest-sent");
  ingest.expectNoConsoleErrors();

  // Search: a text query reaches the indexer and lists neighbours (the index holds at least what was just sent, once embedded).
  const search = new SearchPage(page);
  await visit(search, testInfo, "token-search");
  await expect
    .poll(async () => {
      await search.searchText(`a seaside tower with a lamp ${run}`, 3);
      return search.resultDocIds.count();
    }, { timeout: 120_000, intervals: [3_000] })
    .toBeGreaterThan(0);
  await expect(page.getByTestId("search-error")).toHaveCount(0);
  await search.screenshot(testInfo, "token-search-results");
  search.expectNoConsoleErrors();

  // Shards: the indexer's stats.
  const shards = new ShardsPage(page);
  await visit(shards, testInfo, "token-shards");
  await expect(page.getByTestId("shards-total")).toBeVisible();
  await expect(page.getByTestId("shards-error")).toHaveCount(0);
  shards.expectNoConsoleErrors();

  // DLQ: this run's entry shows, and the download (a plain link: the cookie is all it has) holds it.
  const dlq = new DlqPage(page);
  await visit(dlq, testInfo, "token-dlq");
  await expect.poll(async () => { await dlq.refresh(); return dlq.row(docId).count(); }, { timeout: 120_000, intervals: [3_000] }).toBe(1);
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("dlq-download-jsonl").click()]);
  const file = testInfo.outputPath("token-dlq.jsonl");
  await download.saveAs(file);
  expect(await readFile(file, "utf8")).toContain(docId);
  await dlq.screenshot(testInfo, "token-dlq");
  dlq.expectNoConsoleErrors();

  // Topics: the list, one topic's newest records, and the server's export (a plain link: the cookie is all it has).
  const topics = new TopicsPage(page);
  await visit(topics, testInfo, "token-topics");
  await expect(topics.row("embeddings")).toBeVisible();
  topics.expectNoConsoleErrors();
  const embeddings = new TopicMessagesPage(page, "embeddings");
  await visit(embeddings, testInfo, "token-topic-embeddings");
  await expect(embeddings.messages().first()).toBeVisible();
  const [exported] = await Promise.all([page.waitForEvent("download"), page.getByTestId("topic-export").click()]);
  const exportFile = testInfo.outputPath("token-embeddings.jsonl");
  await exported.saveAs(exportFile);
  expect((await readFile(exportFile, "utf8")).split("\n").filter(Boolean).length).toBeGreaterThan(0);
  embeddings.expectNoConsoleErrors();

  // Health: every component's row.
  const health = new ConsolePage(page, "/health", "health-table");
  await visit(health, testInfo, "token-health");
  await expect(page.getByTestId("health-status-kafka")).toHaveText("ok");
  health.expectNoConsoleErrors();

  expect(unauthorized, "no request of a logged-in page was refused").toEqual([]);
});

test("a live stream opened by the page's own EventSource runs on the cookie", async ({ page, consoleToken }) => {
  await logIn(page, consoleToken, "/health");
  const event = await page.evaluate(
    () =>
      new Promise<string>((resolve, reject) => {
        const source = new EventSource("/api/infermesh/stream");
        const timer = setTimeout(() => (source.close(), reject(new Error("no event within 15 s"))), 15_000);
        source.addEventListener("infermesh", (e) => {
          clearTimeout(timer);
          source.close();
          resolve((e as MessageEvent<string>).data);
        });
        source.onerror = () => {
          clearTimeout(timer);
          source.close();
          reject(new Error("the stream was refused"));
        };
      }),
  );
  expect(JSON.parse(event)).toMatchObject({ infermesh: { status: "healthy" } });
});

test("logging out returns to the login form and ends the session on the server: the old cookie no longer works", async ({ page, consoleToken, request }, testInfo) => {
  await logIn(page, consoleToken, "/");
  const cookie = await sessionCookie(page);
  const withOldCookie = () => request.get("/api/health?degraded=200", { headers: { cookie: `${SESSION_COOKIE}=${cookie}` }, maxRedirects: 0 });
  expect((await withOldCookie()).status()).toBe(200);

  await page.getByTestId("logout").click();
  await expect(page.getByTestId("login-form")).toBeVisible();
  expect(new URL(page.url()).pathname).toBe("/login");
  await new LoginPage(page).screenshot(testInfo, "logged-out");
  expect((await page.context().cookies()).map((c) => c.name)).not.toContain(SESSION_COOKIE);

  // The browser forgot the cookie; a copy kept elsewhere is refused too.
  const after = await withOldCookie();
  expect(after.status()).toBe(401);
  expect((await after.json()).error.code).toBe("unauthorized");
  await page.goto("/search");
  await new LoginPage(page).expectAt("/search");
});
