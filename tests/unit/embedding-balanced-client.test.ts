import { afterEach, describe, expect, it } from "vitest";
import { createBalancedClient, type BalancedClientConfig } from "@/lib/embedding/balanced-client";
import { EmbeddingRejectedError, EmbeddingUnavailableError } from "@/lib/embedding/errors";
import { freePort } from "../harness/free-port";
import { waitFor } from "../harness/wait-for";
import { WorkerStats } from "@/workers/embed/stats";
import { fakeVector, startDouble, type Double, type Step } from "../doubles/http-double";
import { teiDouble } from "../doubles/tei-double";

/**
 * The balanced client against TEI-shaped TEST DOUBLES (lib/embedding's wire
 * formats are tested per provider in embedding-client.test.ts): where each
 * call goes, what an instance's failure does to the next calls, and when an
 * ejected instance comes back. Real HTTP, real timeouts; the fake-clock
 * schedule of probes is in embedding-balancer.test.ts.
 */

let doubles: Double[] = [];
let clients: { close(): Promise<void> }[] = [];
afterEach(async () => {
  // Doubles first: a stalled answer ends there, and a pool closes once its calls have.
  await Promise.all(doubles.map((d) => d.close()));
  await Promise.all(clients.map((c) => c.close()));
  doubles = [];
  clients = [];
});

async function start(n: number): Promise<Double[]> {
  const made = await Promise.all(Array.from({ length: n }, () => startDouble(teiDouble)));
  doubles.push(...made);
  return made;
}

function client(urls: string[], over: Partial<BalancedClientConfig> = {}, probeFirstMs = 60_000) {
  const c = createBalancedClient("tei", { urls, model: "m", timeoutMs: 2_000, retries: 2, backoffMs: 10, connections: 2, ...over }, { probeFirstMs });
  clients.push(c);
  return c;
}

/** Requests a double got, probes (one text: "probe") left out. */
const calls = (d: Double) => d.requests.filter((r) => JSON.stringify(r.body) !== JSON.stringify({ inputs: ["probe"], truncate: true })).length;
const probesOf = (d: Double) => d.requests.length - calls(d);
const always = (step: Step, n = 50): Step[] => Array.from({ length: n }, () => step);

describe("balanced embedding client", () => {
  it("spreads sequential calls evenly and answers in input order", async () => {
    const [a, b] = await start(2);
    const c = client([a!.url, b!.url]);
    for (let i = 0; i < 6; i++) {
      const res = await c.embed(["x", `call ${i}`]);
      expect(res.vectors).toEqual(["x", `call ${i}`].map(fakeVector));
    }
    expect([calls(a!), calls(b!)]).toEqual([3, 3]);
  });

  it("sends calls to the instance with fewer in flight, whatever the turn", async () => {
    const [a, b] = await start(2);
    a!.script([{ kind: "stall" }]);
    const c = client([a!.url, b!.url], { timeoutMs: 60_000 });
    const stalled = c.embed(["held"]).catch((err: unknown) => err);
    await waitFor("the first call to reach a", () => a!.requests.length === 1, 5_000, 10);
    for (let i = 0; i < 5; i++) await c.embed([`while a is busy ${i}`]);
    // a has one call in flight the whole time: every other call went to b, none took a's turn.
    expect(calls(b!)).toBe(5);
    expect(c.upstreams()).toMatchObject([{ outstanding: 1, state: "up" }, { outstanding: 0, requests: 5 }]);
    await a!.close();
    await stalled;
  });

  it.each([
    { name: "HTTP 503", setup: async (d: Double) => d.script(always({ kind: "status", status: 503 })), over: {} },
    { name: "HTTP 500", setup: async (d: Double) => d.script(always({ kind: "status", status: 500 })), over: {} },
    { name: "a timeout", setup: async (d: Double) => d.script(always({ kind: "stall" })), over: { timeoutMs: 300 } },
    {
      name: "a connection refused",
      setup: async (d: Double) => {
        await d.close();
      },
      over: {},
    },
  ])("ejects an instance on $name; the retry and every later call go to the other", async ({ setup, over }) => {
    const [a, b] = await start(2);
    await setup(a!);
    const c = client([a!.url, b!.url], over);
    const first = await c.embed(["first"]);
    expect(first.vectors).toEqual([fakeVector("first")]);
    expect(first.attempts).toBe(2);
    const before = a!.requests.length;
    for (let i = 0; i < 4; i++) await c.embed([`after ${i}`]);
    expect(a!.requests.length).toBe(before);
    expect(calls(b!)).toBe(5);
    expect(c.upstreams()).toMatchObject([
      { state: "ejected", ejections: 1, failures: 1, requests: 1 },
      { state: "up", ejections: 0, failures: 0, requests: 5 },
    ]);
  });

  it("retries skip ejected instances: a second failure moves on to the third, never back to the ejected one", async () => {
    const [a, b, c3] = await start(3);
    a!.script(always({ kind: "status", status: 503 }));
    const c = client([a!.url, b!.url, c3!.url]);
    await c.embed(["ejects a"]); // a fails, b answers
    b!.script([{ kind: "status", status: 502 }]);
    // b's 502 comes within the next calls (turns alternate between b and c); its retry has only c left.
    for (let i = 0; i < 5; i++) expect((await c.embed([`then ${i}`])).vectors).toEqual([fakeVector(`then ${i}`)]);
    expect(calls(a!)).toBe(1);
    expect(c.upstreams().map((u) => u.state)).toEqual(["ejected", "ejected", "up"]);
  });

  it("a 429 is retried on another instance without ejecting the busy one", async () => {
    const [a, b] = await start(2);
    a!.script([{ kind: "status", status: 429 }]);
    const c = client([a!.url, b!.url]);
    const res = await c.embed(["busy"]);
    expect(res.attempts).toBe(2);
    expect(c.upstreams()).toMatchObject([{ state: "up", failures: 1, ejections: 0 }, { state: "up" }]);
  });

  it("a rejection (4xx) is the request's fault: thrown at once, never sent to another instance", async () => {
    const [a, b] = await start(2);
    a!.script([{ kind: "status", status: 422, body: { error: "input too long" } }]);
    const c = client([a!.url, b!.url]);
    await expect(c.embed(["bad"])).rejects.toBeInstanceOf(EmbeddingRejectedError);
    expect(b!.requests).toHaveLength(0);
    expect(c.upstreams()[0]).toMatchObject({ state: "up", failures: 0 });
  });

  it("with every instance failing: EmbeddingUnavailableError after INFERMESH_RETRIES retries (the worker waits it out)", async () => {
    const [a, b] = await start(2);
    a!.script(always({ kind: "status", status: 503 }));
    b!.script(always({ kind: "status", status: 503 }));
    const c = client([a!.url, b!.url], { retries: 3 });
    const err = await c.embed(["nobody"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmbeddingUnavailableError);
    expect((err as EmbeddingUnavailableError).attempts).toBe(4);
    // Both were tried before either was tried again.
    expect([calls(a!), calls(b!)]).toEqual([2, 2]);
    // Panic: both ejected, and the next call still goes out (and succeeds once one answers).
    a!.script([]);
    expect((await c.embed(["back"])).vectors).toEqual([fakeVector("back")]);
  });

  it("a single instance behaves as before: retried with backoff, then unavailable", async () => {
    const [a] = await start(1);
    a!.script([{ kind: "status", status: 503 }, { kind: "status", status: 503 }]);
    const c = client([a!.url], { retries: 2 });
    const res = await c.embed(["third time"]);
    expect(res.attempts).toBe(3);
    expect(c.upstreams()).toMatchObject([{ state: "up", requests: 3, failures: 2, ejections: 1 }]);
  });

  it("probes an ejected instance with one short text and takes it back once it answers", async () => {
    const [a, b] = await start(2);
    a!.script([{ kind: "status", status: 503 }, { kind: "status", status: 503 }]);
    const c = client([a!.url, b!.url], {}, 50);
    await c.embed(["ejects a"]);
    expect(c.upstreams()[0]!.state).toBe("ejected");
    // The first probe meets the second 503; the next one (100 ms later) is answered.
    await waitFor("a back in rotation", () => c.upstreams()[0]!.state === "up", 10_000, 20);
    expect(probesOf(a!)).toBe(2);
    const seen = new Set<number>();
    for (let i = 0; i < 4; i++) {
      const before = calls(a!);
      await c.embed([`round ${i}`]);
      seen.add(calls(a!) > before ? 0 : 1);
    }
    expect(seen).toEqual(new Set([0, 1]));
  });

  it("a dead port among the URLs: everything is embedded by the live one", async () => {
    const [b] = await start(1);
    const dead = `http://127.0.0.1:${await freePort()}`;
    const c = client([dead, b!.url]);
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => c.embed([`t${i}`])));
    expect(results.map((r) => r.vectors[0])).toEqual(Array.from({ length: 8 }, (_, i) => fakeVector(`t${i}`)));
    expect(c.upstreams()[0]).toMatchObject({ state: "ejected", ejections: 1 });
  });
});

describe("embed-worker metrics of the instances", () => {
  const upstreams = [
    { url: "https://user:pw@a.example:9000/v1?token=t0k", state: "up" as const, outstanding: 2, requests: 10, failures: 1, ejections: 0, p50_ms: 865.2, p99_ms: 40 },
    { url: 'http://b.example:9000/"quoted"', state: "ejected" as const, outstanding: 0, requests: 3, failures: 3, ejections: 1, p50_ms: null, p99_ms: null },
  ];

  it("GET /metrics lists each instance with its URL redacted", () => {
    const json = new WorkerStats().json({ paused: false, status: "ok", upstreams });
    expect(json.upstreams).toEqual([
      { ...upstreams[0], url: "https://***:***@a.example:9000/v1?token=[redacted]" },
      { ...upstreams[1], url: 'http://b.example:9000/"quoted"' },
    ]);
    expect(JSON.stringify(json)).not.toMatch(/pw|t0k/);
  });

  it("/metrics/prometheus has one series per instance, labelled by redacted URL, latency absent before an answer", () => {
    const text = new WorkerStats().prometheus({ paused: false, degraded: false, upstreams });
    const a = 'url="https://***:***@a.example:9000/v1?token=[redacted]"';
    const b = 'url="http://b.example:9000/\\"quoted\\""';
    for (const line of [
      `embedline_embed_worker_upstream_up{${a}} 1`,
      `embedline_embed_worker_upstream_up{${b}} 0`,
      `embedline_embed_worker_upstream_outstanding{${a}} 2`,
      `embedline_embed_worker_upstream_requests_total{${b}} 3`,
      `embedline_embed_worker_upstream_failures_total{${b}} 3`,
      `embedline_embed_worker_upstream_ejections_total{${b}} 1`,
      `embedline_embed_worker_upstream_latency_p50_seconds{${a}} 0.8652`,
      `embedline_embed_worker_upstream_latency_p99_seconds{${a}} 0.04`,
    ]) {
      expect(text.split("\n")).toContain(line);
    }
    expect(text).not.toContain(`upstream_latency_p50_seconds{${b}}`);
    expect(text).not.toMatch(/pw|t0k/);
  });
});

describe("closing", () => {
  // Without the abort, close() waits for the probe's 60 s timeout and this test times out at 10 s.
  it("close() ends a probe that hangs, instead of waiting out its timeout", { timeout: 10_000 }, async () => {
    const [a, b] = await start(2);
    a!.script([{ kind: "status", status: 503 }, { kind: "stall" }]);
    const c = createBalancedClient("tei", { urls: [a!.url, b!.url], model: "m", timeoutMs: 60_000, retries: 2, backoffMs: 10, connections: 2 }, { probeFirstMs: 10 });
    await c.embed(["ejects a"]);
    await waitFor("the probe to reach a and hang", () => probesOf(a!) === 1, 5_000, 10);
    await c.close();
    expect(c.upstreams()[0]!.state).toBe("ejected");
  });
});
