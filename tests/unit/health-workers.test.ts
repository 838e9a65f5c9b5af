import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConsoleConfig } from "@/lib/config/console";
import { degradedReasons, healthComponents } from "@/lib/health/components";
import { closeHttpProbes } from "@/lib/health/http-probe";
import { runProbe } from "@/lib/health/probe";
import { createLogger } from "@/lib/log";

/**
 * The pipeline's workers answer /health with 200 while degraded (alive, but a
 * partition is not advancing or a dependency is away): the console must read
 * the body and name what is stuck. A local server answers in the workers'
 * documented shape: {status, reasons?, partitions?}.
 */
const bodies: Record<string, unknown> = {};
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const body = bodies[req.url ?? ""];
    res.writeHead(body === undefined ? 404 : 200, { "content-type": "application/json" }).end(JSON.stringify(body ?? {}));
  }).listen(0, "127.0.0.1");
  await once(server, "listening");
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await closeHttpProbes();
  server.close();
});

function component(name: string) {
  // No broker (a closed port), so the indexers are INDEXER_URL alone whatever runs on the default 9092.
  const cfg = parseConsoleConfig({ PARSE_METRICS_URL: `${base}/parse`, EMBED_WORKER_METRICS_URL: `${base}/embed`, INDEXER_URL: `${base}/indexer`, KAFKA_BOOTSTRAP_SERVERS: "127.0.0.1:1", LOG_LEVEL: "silent" });
  const found = healthComponents(cfg, createLogger("test", "silent")).find((c) => c.name === name);
  if (!found) throw new Error(`no component ${name}`);
  return found;
}

describe("pipeline workers in the console's health", () => {
  it.each([
    ["parse-worker", "/parse/health", { status: "degraded", partitions: [{ topic: "agent.results", partition: 0, offset: "41", reason: "dead letter does not fit agent.results.dlq" }] }, "degraded (agent.results[0] at offset 41: dead letter does not fit agent.results.dlq)"],
    ["embed-worker", "/embed/health", { status: "degraded", reasons: [], partitions: [{ topic: "embedding_input", partition: 2, offset: null, reason: "paused by an operator" }] }, "degraded (embedding_input[2]: paused by an operator)"],
    ["embed-worker", "/embed/health", { status: "degraded", reasons: [{ component: "embedding-service", reason: "unreachable" }], partitions: [] }, "degraded (embedding-service: unreachable)"],
    ["indexer", "/indexer/health", { status: "degraded", partitions: [{ partition: 1, offset: 7, reason: "waiting on the RedDB mirror" }], total_ids: 5 }, "degraded (partition 1 at offset 7: waiting on the RedDB mirror)"],
  ])("%s: a 200 that says degraded is down, naming the partition and why", async (name, url, body, error) => {
    bodies[url] = body;
    expect(await runProbe(component(name), 2_000)).toMatchObject({ ok: false, error });
  });

  it("a healthy indexer shows its size; a healthy worker nothing more", async () => {
    bodies["/indexer/health"] = { status: "ok", partitions: [], total_ids: 5 };
    bodies["/parse/health"] = { status: "ok", partitions: [] };
    expect(await runProbe(component("indexer"), 2_000)).toMatchObject({ ok: true, detail: "5 vectors" });
    expect(await runProbe(component("parse-worker"), 2_000)).toMatchObject({ ok: true, detail: null });
  });

  it("names the first few stuck partitions, then how many more", () => {
    const partitions = [0, 1, 2, 3, 4].map((p) => ({ topic: "t", partition: p, offset: 1, reason: "r" }));
    expect(degradedReasons({ partitions })).toBe("t[0] at offset 1: r; t[1] at offset 1: r; t[2] at offset 1: r; and 2 more");
  });
});
