/**
 * The console's embedding-service feed (/api/infermesh/stream) with several
 * INFERMESH_URL instances, against TEST DOUBLES of an InferMesh-compatible
 * service's /health and /metrics (Prometheus text), as a real InferMesh serves
 * them: one row per instance, and the service as a whole healthy only when
 * every instance is, unreachable only when none answers.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { freePort } from "../harness/free-port";

let inputs = 100;
let healthy: Server;
let healthy2: Server;
let failing: Server;
let deadUrl: string;
const url = (s: Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;

const healthyDouble = () =>
  createServer((req, res) => {
    if (req.url === "/health") return res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ status: "ok", model: "all-MiniLM-L6-v2" }));
    if (req.url === "/metrics") return res.writeHead(200, { "content-type": "text/plain" }).end(`# TYPE infermesh_inputs_total counter\ninfermesh_inputs_total ${inputs}\n# TYPE infermesh_queue_depth gauge\ninfermesh_queue_depth 3\n`);
    res.writeHead(404).end();
  });

beforeAll(async () => {
  healthy = healthyDouble();
  healthy2 = healthyDouble();
  failing = createServer((_req, res) => res.writeHead(503, { "content-type": "application/json" }).end(JSON.stringify({ error: "model loading" })));
  await Promise.all([healthy, healthy2, failing].map((s) => new Promise<void>((r) => s.listen(0, "127.0.0.1", r))));
  deadUrl = `http://u:pw@127.0.0.1:${await freePort()}`;
});
afterAll(async () => {
  delete process.env.INFERMESH_URL;
  await Promise.all([healthy, healthy2, failing].map((s) => new Promise((r) => s.close(r))));
});

async function pollWith(urls: string[]) {
  process.env.INFERMESH_URL = urls.join(",");
  // consoleConfig() reads the environment once per module instance.
  vi.resetModules();
  const { infermeshPoll } = await import("@/lib/upstreams/infermesh");
  return infermeshPoll();
}

it("one row per instance; the service is unhealthy while one is down, and its figures sum the ones that answer", async () => {
  const poll = await pollWith([url(healthy), url(failing), deadUrl]);
  const signal = AbortSignal.timeout(10_000);
  const first = await poll(signal);
  expect(first.instances.map((i) => [i.url, i.status])).toEqual([
    [url(healthy), "healthy"],
    [url(failing), "unhealthy"],
    [deadUrl.replace("u:pw@", "***:***@"), "unreachable"],
  ]);
  expect(first.infermesh.status).toBe("unhealthy");
  expect(first.infermesh.error).toMatch(/^2 of 3 instances are not healthy: /);
  expect(JSON.stringify(first)).not.toContain("pw");
  expect(first.infermesh.model).toBe("all-MiniLM-L6-v2");
  expect(first).toMatchObject({ rows_est: 100, queue_depth: 3 });
  inputs = 160;
  const second = await poll(signal);
  expect(second.rows_est).toBe(160);
  expect(second.rows_per_sec).toBeGreaterThan(0);
});

it("unreachable only when no instance answers; healthy only when all do", async () => {
  const signal = AbortSignal.timeout(10_000);
  expect((await (await pollWith([deadUrl, `http://127.0.0.1:${await freePort()}`]))(signal)).infermesh.status).toBe("unreachable");
  const allUp = await (await pollWith([url(healthy), url(healthy2)]))(signal);
  expect(allUp.infermesh).toMatchObject({ status: "healthy", model: "all-MiniLM-L6-v2" });
  expect(allUp.infermesh.error).toBeUndefined();
  expect(allUp).toMatchObject({ rows_est: 2 * inputs, queue_depth: 6 });
  // One instance: its own status, as before the list.
  expect((await (await pollWith([url(failing)]))(signal)).infermesh).toMatchObject({ status: "unhealthy", rtt_ms: null });
});
