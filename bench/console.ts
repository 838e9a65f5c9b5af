/**
 * npm run bench:console → bench/results/console.json
 *
 * Starts the bundled embedding service (the stream's upstream) and the
 * console's production build (`next start`, build it first) on free ports as
 * their own processes, then:
 *  1. opens 1,000 concurrent SSE clients on /api/infermesh/stream; once all are
 *     connected and have had a live event, measures for 30 s, per event, the
 *     delay from the poll's completion (the event's `timestamp`) to the moment
 *     its bytes reach the client's socket callback; samples the server's CPU
 *     and RSS from /proc; counts upstream polls (one per interval, whatever the
 *     clients). The clients are plain node:http sockets in this process, which
 *     shares the 2 cores with the server: their own work is kept to a
 *     timestamp per chunk, so the figure is the server's fan-out, not the
 *     driver's parsing;
 *  2. loads each page once in Debian's chromium: time to the load event and
 *     the JavaScript bytes it fetched.
 * Goals (issue 7): p99 delay < 100 ms, RSS < 300 MB, Overview first load < 1.5 s.
 * With CONSOLE_TOKEN in the environment the console gets it and every client
 * sends `Authorization: Bearer`, so the figures include the check. The
 * console's SSE caps (CONSOLE_SSE_MAX_*) are raised to the bench's client count:
 * all 1,000 clients come from this one address.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { Agent, get, type ClientRequest } from "node:http";
import path from "node:path";
import { createParser } from "eventsource-parser";
import { parseEnv } from "../lib/config/env";
import { inheritedEnv, loadOrExit } from "../lib/config/load";
import { startRealInfermesh } from "../tests/harness/embed-worker";
import { freePort } from "../tests/harness/free-port";
import { percentileOf } from "../tests/harness/percentile";
import { GiveUp, waitFor } from "../tests/harness/wait-for";

const CLIENTS = 1_000;
const MEASURE_MS = 30_000;
const root = path.resolve(import.meta.dirname, "..");

function procStats(pid: number) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  const ticks = Number(stat[11]) + Number(stat[12]);
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  return { cpuSec: ticks / 100, rssMb: rssKb / 1024 };
}


async function main() {
  const upstream = await startRealInfermesh({ LOG_LEVEL: "warn" });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const { CONSOLE_TOKEN: token } = loadOrExit((e) => parseEnv(["CONSOLE_TOKEN"], e));
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const caps = { CONSOLE_SSE_MAX_PER_CLIENT: String(CLIENTS + 10), CONSOLE_SSE_MAX_TOTAL: String(CLIENTS + 10) };
  const server = spawn(process.execPath, [path.join(root, "node_modules/next/dist/bin/next"), "start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: root,
    env: { ...inheritedEnv(), INFERMESH_URL: upstream.url, ...caps },
    stdio: ["ignore", "ignore", "inherit"],
  });
  try {
    await waitFor(`the console on ${base} (run \`npx next build\` first)`, async () => {
      if (server.exitCode !== null) throw new GiveUp(`next start exited with ${server.exitCode}`);
      return (await fetch(`${base}/api/live`)).ok;
    }, 60_000);
    const idle = procStats(server.pid!);

    // 1. SSE fan-out.
    const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
    const delays: number[] = [];
    const ids = new Set<string>();
    const upstreamErrors = new Set<string>();
    const requests: ClientRequest[] = [];
    let connected = 0;
    const refused = new Set<number>();
    let live = 0;
    /** Events whose poll completed before this are the warm-up's, not measured. */
    let measureFrom = Infinity;
    const connectStarted = Date.now();
    for (let c = 0; c < CLIENTS; c++) {
      let arrival = 0;
      let first = true;
      let sawLive = false;
      const parser = createParser({
        onEvent: (e) => {
          // The first event of a connection is the ring buffer's replay, not a fresh poll.
          if (first) return void (first = false);
          if (!sawLive) {
            sawLive = true;
            live++;
          }
          const data = JSON.parse(e.data) as { timestamp: number; error?: string };
          if (data.error) upstreamErrors.add(data.error);
          if (data.timestamp * 1000 < measureFrom) return;
          ids.add(e.id ?? "");
          delays.push(arrival - data.timestamp * 1000);
        },
      });
      const req = get(`${base}/api/infermesh/stream`, { agent, headers: auth }, (res) => {
        // A refusal (401 without the token, 429 over the caps) is not a client to measure.
        if (res.statusCode !== 200) refused.add(res.statusCode ?? 0);
        connected++;
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          arrival = Date.now();
          parser.feed(chunk);
        });
        res.on("error", () => undefined);
      });
      req.on("error", () => undefined);
      requests.push(req);
    }
    await waitFor("all clients to connect", () => connected === CLIENTS, 60_000, 50);
    if (refused.size) throw new Error(`the console refused some streams with HTTP ${[...refused].join(", ")}`);
    const connectSeconds = (Date.now() - connectStarted) / 1000;
    await waitFor("every client to receive a live event", () => live === CLIENTS, 30_000, 50);
    measureFrom = Date.now();
    const t0 = Date.now();
    const before = procStats(server.pid!);
    let peakRss = before.rssMb;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, procStats(server.pid!).rssMb)), 500);
    await new Promise((r) => setTimeout(r, MEASURE_MS));
    const after = procStats(server.pid!);
    clearInterval(sampler);
    const elapsed = (Date.now() - t0) / 1000;
    for (const req of requests) req.destroy();

    // 2. Pages in chromium.
    const { chromium } = await import("@playwright/test");
    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
    const pages: Record<string, { load_ms: number; js_bytes: number }> = {};
    for (const p of ["/", "/monitoring", "/search", "/shards", "/dlq", "/lag", "/ingest", "/health"]) {
      const context = await browser.newContext({ extraHTTPHeaders: auth });
      const page = await context.newPage();
      await page.goto(`${base}${p}`, { waitUntil: "load" });
      pages[p] = await page.evaluate(() => {
        const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
        const js = (performance.getEntriesByType("resource") as PerformanceResourceTiming[]).filter((r) => r.name.endsWith(".js"));
        return { load_ms: Math.round(nav.loadEventEnd - nav.startTime), js_bytes: js.reduce((n, r) => n + (r.encodedBodySize || r.transferSize), 0) };
      });
      await context.close();
    }
    await browser.close();

    const result = {
      when: new Date().toISOString(),
      sse: {
        clients: CLIENTS,
        connected,
        connect_seconds: Number(connectSeconds.toFixed(1)),
        measured_seconds: Number(elapsed.toFixed(1)),
        events_received: delays.length,
        distinct_event_ids: ids.size,
        upstream: { service: "bundled embedding service (workers/infermesh)", errors: [...upstreamErrors] },
        delay_ms: { p50: percentileOf(delays, 50), p99: percentileOf(delays, 99), max: percentileOf(delays, 100) },
        server_cpu_percent: Number((((after.cpuSec - before.cpuSec) / elapsed) * 100).toFixed(1)),
        server_rss_mb: { idle: Number(idle.rssMb.toFixed(1)), peak: Number(peakRss.toFixed(1)) },
      },
      pages,
      goals: { p99_delay_ms: 100, rss_mb: 300, overview_load_ms: 1500 },
      met: {
        p99_delay: percentileOf(delays, 99) < 100,
        rss: peakRss < 300,
        overview_load: (pages["/"]?.load_ms ?? Infinity) < 1500,
      },
    };
    mkdirSync(path.join(root, "bench/results"), { recursive: true });
    writeFileSync(path.join(root, "bench/results/console.json"), `${JSON.stringify(result, null, 2)}\n`);
    console.log(JSON.stringify(result, null, 2));
  } finally {
    server.kill("SIGTERM");
    await upstream.stop();
  }
}

await main();
