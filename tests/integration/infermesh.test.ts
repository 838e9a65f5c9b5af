/**
 * The bundled embedding service as operators run it: a real process, the real
 * model (USE lite from node_modules), real HTTP. Needs no Kafka.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEmbeddingClientConfig } from "../../lib/config/embedding-client";
import { createProviderClient } from "../../lib/embedding";

const root = path.resolve(__dirname, "../..");
const API_KEY = `test-key-${process.pid}-${Date.now()}`;
const MAX_INPUTS = 8;
const QUEUE_MAX = 16;
const MAX_BODY = 65536;

let base = "";
let child: ChildProcess;
let logs = "";

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function waitFor<T>(what: string, deadlineMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}) before ${what}:\n${logs}`);
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}:\n${logs}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const auth = { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" };

async function post(p: string, body: unknown, headers: Record<string, string> = auth) {
  const res = await fetch(`${base}${p}`, { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

async function embed(inputs: string[]): Promise<number[][]> {
  const r = await post("/embed", { inputs });
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

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  child = spawn(process.execPath, ["--conditions=react-server", "--import", "tsx", path.join(root, "workers/infermesh/index.ts")], {
    cwd: root,
    env: {
      ...process.env,
      INFERMESH_PORT: String(port),
      INFERMESH_HOST: "127.0.0.1",
      INFERMESH_API_KEY: API_KEY,
      INFERMESH_MAX_INPUTS: String(MAX_INPUTS),
      INFERMESH_QUEUE_MAX: String(QUEUE_MAX),
      INFERMESH_MAX_BODY_BYTES: String(MAX_BODY),
      LOG_LEVEL: "info",
      SHUTDOWN_TIMEOUT_SEC: "10",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (d: Buffer) => (logs += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (logs += d.toString()));
  await waitFor("GET /health to answer 200", 90_000, async () => ((await fetch(`${base}/health`)).status === 200 ? true : undefined));
});

afterAll(async () => {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  child.kill("SIGTERM");
  await exited;
});

describe("embedding service with the bundled model", () => {
  it("reports health, the model and its dimension", async () => {
    const h = (await (await fetch(`${base}/health`)).json()) as Record<string, unknown>;
    expect(h).toMatchObject({ status: "ok", model: "use-lite", dim: 512 });
    expect(typeof h.uptime_s).toBe("number");
    const m = await fetch(`${base}/models`, { headers: auth });
    const models = ((await m.json()) as { models: Record<string, unknown>[] }).models;
    expect(models.find((x) => x.short_name === "use-lite")).toMatchObject({ dim: 512, loaded: true, provider: "local", max_input_length: 2048 });
    expect(models.find((x) => x.short_name === "minilm-l6-v2")).toMatchObject({ dim: 384, loaded: false });
  });

  it("scores a paraphrase above an unrelated sentence", async () => {
    const [dog, canine, tax] = await embed(["A large furry dog runs in the park", "A big hairy canine jogs outdoors", "Quarterly tax filing deadline"]);
    const para = cosine(dog!, canine!);
    const unrelated = cosine(dog!, tax!);
    expect(para).toBeGreaterThan(unrelated + 0.2);
    const r = await post("/embed", { inputs: ["x"] });
    expect(r.json).toMatchObject({ model: "use-lite", dim: 512, truncated: [] });
  });

  it("gives the same vector alone, inside a mixed batch, and batched with concurrent requests (within 1e-5)", async () => {
    const text = "The embed worker reads records from Kafka";
    const [alone] = await embed([text]);
    const mixed = await embed(["short", "x ".repeat(400) + "a long input pads the batch", text, "another sentence of middling length here"]);
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
    const client = createProviderClient("infermesh", parseEmbeddingClientConfig({ INFERMESH_URL: base, INFERMESH_API_KEY: API_KEY }));
    try {
      const res = await client.embed(["one sentence", "another, with \"quotes\" and [brackets]"]);
      expect(res.vectorsJson).toHaveLength(2);
      res.vectorsJson!.forEach((json, i) => expect(JSON.parse(json!)).toEqual(res.vectors[i]));
    } finally {
      await client.close();
    }
  });

  it("truncates an over-long input to the model's limit and says which one", async () => {
    const long = "word ".repeat(1000);
    const r = await post("/embed", { inputs: ["fine", long] });
    expect(r.status).toBe(200);
    expect(r.json.truncated).toEqual([{ index: 1, text_len: 5000, truncated_len: 2048 }]);
    const [cut] = await embed([long.slice(0, 2048)]);
    expect(maxAbsDiff((r.json.vectors as number[][])[1]!, cut!)).toBeLessThan(1e-5);
  });

  it.each([
    ["no token", "/embed", { inputs: ["a"] }, { "content-type": "application/json" }, 401, "unauthorized"],
    ["wrong token", "/embed", { inputs: ["a"] }, { authorization: "Bearer nope", "content-type": "application/json" }, 401, "unauthorized"],
    ["malformed JSON", "/embed", "{inputs: [", auth, 400, "invalid_json"],
    ["no inputs", "/embed", { model: "use-lite" }, auth, 422, "missing_inputs"],
    ["empty inputs", "/embed", { inputs: [] }, auth, 422, "empty_inputs"],
    ["too many inputs", "/embed", { inputs: Array.from({ length: MAX_INPUTS + 1 }, () => "a") }, auth, 413, "too_many_inputs"],
    ["a non-string input", "/embed", { inputs: ["a", { text: "b" }] }, auth, 422, "non_string_input"],
    ["an empty string", "/embed", { inputs: ["a", ""] }, auth, 422, "empty_input"],
    ["an unknown model", "/embed", { model: "gpt-9", inputs: ["a"] }, auth, 404, "model_not_found"],
    ["a body over the limit", "/embed", { inputs: ["x".repeat(MAX_BODY)] }, auth, 413, "body_too_large"],
    ["OpenAI route, no token", "/v1/embeddings", { input: "a" }, { "content-type": "application/json" }, 401, "unauthorized"],
    ["OpenAI route, token arrays", "/v1/embeddings", { input: [[1, 2]] }, auth, 422, "non_string_input"],
  ])("refuses %s with %i", async (_name, route, body, headers, status, code) => {
    const r = await post(route, body, headers as Record<string, string>);
    expect(r.status).toBe(status);
    expect((r.json.error as { code: string }).code).toBe(code);
    expect((r.json.error as { message: string }).message.length).toBeGreaterThan(5);
    if (status === 401) expect(r.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });

  it("answers 429 with Retry-After when the queue is full", async () => {
    const long = "many words make this input slow to embed ".repeat(45);
    const requests = Array.from({ length: 6 }, (_, i) => post("/embed", { inputs: Array.from({ length: MAX_INPUTS }, (_, j) => `${i} ${j} ${long}`) }));
    const results = await Promise.all(requests);
    const refused = results.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    expect(Number(refused[0]!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((refused[0]!.json.error as { code: string }).code).toBe("queue_full");
    // The ones that got in were answered in full.
    for (const r of results.filter((x) => x.status !== 429)) expect((r.json.vectors as unknown[]).length).toBe(MAX_INPUTS);
  });

  it("speaks the OpenAI embeddings wire format, float and base64", async () => {
    const f = await post("/v1/embeddings", { model: "use-lite", input: ["hello world", "second"] });
    expect(f.status).toBe(200);
    expect(f.json).toMatchObject({ object: "list", model: "use-lite" });
    const data = f.json.data as { object: string; index: number; embedding: number[] }[];
    expect(data.map((d) => [d.object, d.index])).toEqual([["embedding", 0], ["embedding", 1]]);
    expect((f.json.usage as { prompt_tokens: number }).prompt_tokens).toBeGreaterThan(0);
    const b = await post("/v1/embeddings", { input: "hello world", encoding_format: "base64" });
    const buf = Buffer.from((b.json.data as { embedding: string }[])[0]!.embedding, "base64");
    const decoded = Array.from(new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4));
    expect(decoded).toHaveLength(512);
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
      ["infermesh_queue_depth", "gauge"],
      ["infermesh_inputs_per_second", "gauge"],
    ] as const) {
      expect(families.get(name)?.type, name).toBe(type);
    }
    const failures = families.get("infermesh_request_failures_total")!.samples;
    expect(failures.find((s) => s.labels.reason === "unauthorized")?.value).toBeGreaterThanOrEqual(3);
    expect(failures.find((s) => s.labels.reason === "queue_full")?.value).toBeGreaterThanOrEqual(1);
    expect(families.get("infermesh_inputs_per_second")!.samples[0]!.value).toBeGreaterThan(0);
    // A histogram's buckets never decrease and +Inf equals its count.
    const h = families.get("infermesh_inference_duration_seconds")!.samples;
    const buckets = h.filter((s) => s.name.endsWith("_bucket")).map((s) => s.value);
    expect([...buckets].sort((a, b) => a - b)).toEqual(buckets);
    expect(buckets.at(-1)).toBe(h.find((s) => s.name.endsWith("_count"))?.value);
  });

  it("never writes the API key to its logs", () => {
    expect(logs).toContain("model ready");
    expect(logs).not.toContain(API_KEY);
  });

  it("stops cleanly on SIGTERM", async () => {
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(logs).toContain('"msg":"stopped"');
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
