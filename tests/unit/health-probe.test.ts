import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { closeHttpProbes, httpComponent } from "@/lib/health/http-probe";
import { describeProbeError, runProbe, type HealthComponent } from "@/lib/health/probe";
import { freePort } from "../harness/free-port";

/**
 * A local HTTP server standing in for the pipeline's processes, which all serve
 * `GET /health` (embedding service, embed-worker, indexer, RedDB).
 */
let server: Server;
let base: string;
const verboseSockets = new Set<unknown>();
const handlers: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
  "/health": (_req, res) => res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}'),
  "/unhealthy": (_req, res) => res.writeHead(503).end('{"status":"unhealthy"}'),
  "/moved": (_req, res) => res.writeHead(302, { location: "/health" }).end(),
  "/verbose": (req, res) => {
    verboseSockets.add(req.socket);
    res.writeHead(200).end(JSON.stringify({ status: "ok", shards: "x".repeat(16 * 1024) }));
  },
  "/large": (_req, res) => res.writeHead(200).end("x".repeat(1024 * 1024)),
  "/hang": () => {
    // Never answers: the probe's deadline must end it.
  },
};

beforeAll(async () => {
  server = createServer((req, res) => {
    const handler = handlers[new URL(req.url!, "http://x").pathname];
    if (handler) handler(req, res);
    else res.writeHead(404).end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await closeHttpProbes();
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, "close");
});

describe("HTTP probe", () => {
  it.each([
    { path: "/health", ok: true, error: null },
    { path: "/unhealthy", ok: false, error: "HTTP 503 Service Unavailable" },
    { path: "/moved", ok: false, error: "HTTP 302 Found" },
    { path: "/nope", ok: false, error: "HTTP 404 Not Found" },
  ])("GET $path → ok=$ok", async ({ path, ok, error }) => {
    const result = await runProbe(httpComponent("indexer", `${base}${path}`), 2_000);
    expect(result).toMatchObject({ name: "indexer", kind: "http", target: `${base}${path}`, ok, error });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it("shows what a healthy answer's JSON says, and still passes a body that is not JSON", async () => {
    const describe = (body: unknown) => ((body as { status?: string } | null)?.status ? `status ${(body as { status: string }).status}` : null);
    expect(await runProbe(httpComponent("embedding-service", `${base}/health`, describe), 2_000)).toMatchObject({ ok: true, detail: "status ok" });
    expect(await runProbe(httpComponent("embedding-service", `${base}/large`, describe), 2_000)).toMatchObject({ ok: true, detail: null });
    expect(await runProbe(httpComponent("embedding-service", `${base}/unhealthy`, describe), 2_000)).toMatchObject({ ok: false, error: "HTTP 503 Service Unavailable" });
  });

  it("marks a component down when its 200 answer says it is degraded", async () => {
    const degraded = () => {
      throw new Error("degraded (embedding-service: unreachable)");
    };
    expect(await runProbe(httpComponent("embed-worker", `${base}/health`, degraded), 2_000)).toMatchObject({ ok: false, error: "degraded (embedding-service: unreachable)" });
  });

  it("reports a refused connection in words, not as a timeout", async () => {
    const url = `http://127.0.0.1:${await freePort()}/health`;
    const result = await runProbe(httpComponent("embed-worker", url), 5_000);
    expect(result.ok).toBe(false);
    expect(result.error).toBe(`connection refused (127.0.0.1:${new URL(url).port})`);
    expect(result.latencyMs!).toBeLessThan(5_000);
  });

  it("gives up at the deadline on a server that never answers", async () => {
    const result = await runProbe(httpComponent("embedding-service", `${base}/hang`), 200);
    expect(result).toMatchObject({ ok: false, error: "timed out after 200 ms" });
  });

  it("reuses connections across probes", async () => {
    const component = httpComponent("reddb", `${base}/verbose`);
    for (let i = 0; i < 10; i++) expect((await runProbe(component, 2_000)).ok).toBe(true);
    expect(verboseSockets.size).toBeLessThanOrEqual(2);
  });

  it("never pins a connection on a large body (drained or dropped, bounded)", async () => {
    // An unread body larger than the socket buffers holds its connection until
    // that probe's deadline aborts it: with two per pool, the third probe would
    // queue behind it and report the wait as its latency.
    const component = httpComponent("indexer", `${base}/large`);
    for (let i = 0; i < 5; i++) {
      const result = await runProbe(component, 3_000);
      expect(result.ok).toBe(true);
      expect(result.latencyMs!).toBeLessThan(1_500);
    }
  });
});

describe("runProbe", () => {
  it("passes the probe's detail through and measures latency", async () => {
    const c: HealthComponent = { name: "console", kind: "process", target: "pid 1", probe: async () => ({ detail: "up 3s" }) };
    expect(await runProbe(c, 1_000)).toMatchObject({ ok: true, error: null, detail: "up 3s" });
  });

  it("never throws: a failing probe becomes ok:false with one line", async () => {
    const c: HealthComponent = {
      name: "x",
      kind: "http",
      target: "t",
      probe: async () => {
        throw new Error("first line\n    at stack frame");
      },
    };
    expect(await runProbe(c, 1_000)).toMatchObject({ ok: false, error: "first line at stack frame", detail: null });
  });
});

describe("describeProbeError", () => {
  const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" });
  it.each([
    { name: "timeout wins", err: new Error("aborted"), timedOut: true, expected: "timed out after 1500 ms" },
    { name: "refused, with the address", err: refused, timedOut: false, expected: "connection refused (127.0.0.1:9)" },
    { name: "code in the cause chain", err: new Error("fetch failed", { cause: refused }), timedOut: false, expected: "connection refused (127.0.0.1:9)" },
    {
      name: "KafkaJS connection error",
      err: Object.assign(new Error("Connection error: connect ECONNREFUSED 127.0.0.1:9092"), { name: "KafkaJSConnectionError", code: "ECONNREFUSED" }),
      timedOut: false,
      expected: "connection refused (127.0.0.1:9092)",
    },
    { name: "host not found", err: Object.assign(new Error("getaddrinfo ENOTFOUND kafka"), { code: "ENOTFOUND" }), timedOut: false, expected: "host not found (kafka)" },
    { name: "code without an address", err: Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }), timedOut: false, expected: "connection closed by peer" },
    { name: "unknown code keeps the message", err: Object.assign(new Error("TLS handshake failed"), { code: "ERR_TLS" }), timedOut: false, expected: "TLS handshake failed" },
    { name: "not an Error", err: "weird", timedOut: false, expected: "weird" },
    { name: "empty message", err: new Error(""), timedOut: false, expected: "probe failed" },
  ])("$name", ({ err, timedOut, expected }) => {
    expect(describeProbeError(err, 1_500, timedOut)).toBe(expected);
  });

  it("bounds the length", () => {
    const line = describeProbeError(new Error("x".repeat(5_000)), 1_000, false);
    expect(line.length).toBeLessThanOrEqual(300);
    expect(line.endsWith("…")).toBe(true);
  });
});
