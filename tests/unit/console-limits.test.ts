/**
 * Body caps of every console POST route, called with real Requests: exactly at
 * the cap the request gets past every check of ours (to the upstream, which is
 * not running here: a 502 that names it; or a 200 for the auth routes), one byte
 * over is a 413 naming the limit and the route, whether the size is declared or
 * only counted. Then the ingest limits on texts and JSONL, and the kNN vectors
 * whose norm cannot be used.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { formatBytes } from "@/lib/http/api-error";

// The console parses its environment once, on first use: set it before importing a route.
// Upstreams on a closed port: a request that passes our checks ends in a quick 502.
Object.assign(process.env, {
  LOG_LEVEL: "silent",
  INDEXER_URL: "http://127.0.0.1:1",
  EMBED_WORKER_METRICS_URL: "http://127.0.0.1:1",
  KAFKA_BOOTSTRAP_SERVERS: "127.0.0.1:1",
  DATA_DIR: mkdtempSync(path.join(tmpdir(), "console-limits-")),
});
delete process.env.CONSOLE_TOKEN;
delete process.env.REDDB_URL;

type Handler = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;
interface RouteCase {
  route: string;
  maxBytes: number;
  handler: Handler;
  params?: Record<string, string>;
  /** A body the schema accepts; padded with trailing whitespace (still JSON) to the size tested. */
  valid: string;
  /** Status once every check of ours passed: 502 = went on to the (absent) upstream. */
  passed: number;
}

let routes: RouteCase[];
let ingest: typeof import("@/app/api/ingest/schema");
let knnPost: Handler;
let ingestPost: Handler;

beforeAll(async () => {
  const knn = await import("@/app/api/knn/query/route");
  const knnSchema = await import("@/app/api/knn/query/schema");
  const ingestRoute = await import("@/app/api/ingest/route");
  ingest = await import("@/app/api/ingest/schema");
  const redrive = await import("@/app/api/embed-worker/dlq/redrive/route");
  const { REDRIVE_MAX_BYTES } = await import("@/app/api/embed-worker/dlq/redrive/limits");
  const control = await import("@/app/api/embed-worker/[action]/route");
  const { CONTROL_MAX_BYTES } = await import("@/app/api/embed-worker/[action]/schema");
  const login = await import("@/app/api/auth/login/route");
  const logout = await import("@/app/api/auth/logout/route");
  knnPost = knn.POST as Handler;
  ingestPost = ingestRoute.POST as Handler;
  routes = [
    { route: "/api/knn/query", maxBytes: knnSchema.KNN_QUERY_MAX_BYTES, handler: knnPost, valid: '{"vector":[0.6,0.8]}', passed: 502 },
    { route: "/api/ingest", maxBytes: ingest.INGEST_MAX_BYTES, handler: ingestPost, valid: '{"texts":["a large furry dog"]}', passed: 502 },
    { route: "/api/embed-worker/dlq/redrive", maxBytes: REDRIVE_MAX_BYTES, handler: redrive.POST as Handler, valid: '{"ids":"all","limit":10}', passed: 502 },
    { route: "/api/embed-worker/pause", maxBytes: CONTROL_MAX_BYTES, handler: control.POST as Handler, params: { action: "pause" }, valid: "{}", passed: 502 },
    { route: "/api/embed-worker/resume", maxBytes: CONTROL_MAX_BYTES, handler: control.POST as Handler, params: { action: "resume" }, valid: "{}", passed: 502 },
    // No CONSOLE_TOKEN: login and logout answer 200 at once.
    { route: "/api/auth/login", maxBytes: login.LOGIN_MAX_BYTES, handler: login.POST as Handler, valid: '{"token":"t","next":"/"}', passed: 200 },
    { route: "/api/auth/logout", maxBytes: logout.LOGOUT_MAX_BYTES, handler: logout.POST as Handler, valid: "{}", passed: 200 },
  ];
});

const padded = (json: string, bytes: number) => json + " ".repeat(bytes - Buffer.byteLength(json));

function post(c: Pick<RouteCase, "route" | "handler" | "params">, body: string, headers: Record<string, string> = {}) {
  const request = new Request(`http://localhost:3000${c.route}`, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
  return c.handler(request, { params: Promise.resolve(c.params ?? {}) });
}

async function errorOf(res: Response) {
  return ((await res.json()) as { error: { code: string; message: string } }).error;
}

const ROUTES = ["/api/knn/query", "/api/ingest", "/api/embed-worker/dlq/redrive", "/api/embed-worker/pause", "/api/embed-worker/resume", "/api/auth/login", "/api/auth/logout"];
const caseOf = (route: string) => routes.find((r) => r.route === route)!;

describe("body cap of each console POST route", () => {
  it("the caps are the documented ones", () => {
    expect(Object.fromEntries(routes.map((r) => [r.route, formatBytes(r.maxBytes)]))).toEqual({
      "/api/knn/query": "64 KiB",
      "/api/ingest": "8 MiB",
      "/api/embed-worker/dlq/redrive": "256 KiB",
      "/api/embed-worker/pause": "1 KiB",
      "/api/embed-worker/resume": "1 KiB",
      "/api/auth/login": "4 KiB",
      "/api/auth/logout": "1 KiB",
    });
    // Below Next's proxyClientMaxBodySize (10 MB), past which Next hands the route a truncated body.
    expect(Math.max(...routes.map((r) => r.maxBytes))).toBeLessThan(10 * 1024 * 1024);
  });

  it.each(ROUTES)("%s: exactly at the cap gets through", async (route) => {
    const c = caseOf(route);
    const res = await post(c, padded(c.valid, c.maxBytes));
    expect(res.status).toBe(c.passed);
    if (c.passed === 502) expect((await errorOf(res)).code).toBe("upstream_unreachable");
  });

  it.each(ROUTES.flatMap((route) => [{ route, declared: false }, { route, declared: true }]))("$route: one byte over is a 413 (size declared: $declared)", async ({ route, declared }) => {
    const c = caseOf(route);
    const body = padded(c.valid, c.maxBytes + 1);
    const res = await post(c, body, declared ? { "content-length": String(c.maxBytes + 1) } : {});
    expect(res.status).toBe(413);
    expect(await errorOf(res)).toEqual({ code: "body_too_large", message: `request body is over the ${formatBytes(c.maxBytes)} limit of ${route}`, type: "invalid_request_error" });
  });

  it.each(ROUTES)("%s: text/plain is a 415", async (route) => {
    const c = caseOf(route);
    const res = await post(c, c.valid, { "content-type": "text/plain" });
    expect(res.status).toBe(415);
    expect(await errorOf(res)).toMatchObject({ code: "unsupported_media_type", message: expect.stringContaining("send Content-Type: application/json") });
  });

  it.each([
    { body: "", status: 400, code: "invalid_json" },
    { body: '{"force":true}', status: 422, code: "invalid_request" },
    { body: "[]", status: 422, code: "invalid_request" },
  ])("pause takes the body {} only: $body → $status", async ({ body, status, code }) => {
    const res = await post(caseOf("/api/embed-worker/pause"), body);
    expect(res.status).toBe(status);
    expect((await errorOf(res)).code).toBe(code);
  });
});

describe("ingest limits", () => {
  const send = (body: unknown) => post({ route: "/api/ingest", handler: ingestPost }, JSON.stringify(body));
  const jsonl = (n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ text: `t${i}` })).join("\n");

  it.each([
    { name: "a text of exactly 64 KiB", body: () => ({ texts: ["a".repeat(64 * 1024)] }), status: 502 },
    { name: "a text one byte over", body: () => ({ texts: ["ok", "a".repeat(64 * 1024 + 1)] }), status: 422, message: "texts: text 2 of 2 is 65,537 bytes in UTF-8, over the 64 KiB limit per text" },
    // Bytes, not characters: "é" is two bytes in UTF-8.
    { name: "32,768 two-byte characters (64 KiB)", body: () => ({ texts: ["é".repeat(32_768)] }), status: 502 },
    { name: "32,769 two-byte characters", body: () => ({ texts: ["é".repeat(32_769)] }), status: 422, message: "texts: text 1 of 1 is 65,538 bytes in UTF-8, over the 64 KiB limit per text" },
    { name: "10,000 texts", body: () => ({ texts: Array.from({ length: 10_000 }, (_, i) => `t${i}`) }), status: 502 },
    { name: "10,001 texts", body: () => ({ texts: Array.from({ length: 10_001 }, (_, i) => `t${i}`) }), status: 422, message: "texts: more than 10,000 texts in one request" },
    { name: "a JSONL file of 10,000 records", body: () => ({ jsonl: jsonl(10_000) }), status: 502 },
    { name: "a JSONL file of 10,001 records", body: () => ({ jsonl: jsonl(10_001) }), status: 422, message: "more than 10,000 records in the file (line 10001)" },
    { name: "a JSONL record over 64 KiB", body: () => ({ jsonl: `{"text":"ok"}\n${JSON.stringify({ text: "a".repeat(64 * 1024) })}` }), status: 422, message: "line 2 is 65,547 bytes, over the 64 KiB limit per record" },
    { name: "neither texts nor jsonl", body: () => ({}), status: 422, message: 'expected {"texts": ["…"]} or {"jsonl": "…"}' },
    { name: "both texts and jsonl", body: () => ({ texts: ["a"], jsonl: "{}" }), status: 422, message: 'expected {"texts": ["…"]} or {"jsonl": "…"}' },
    { name: "an unknown field", body: () => ({ text: "x" }), status: 422, message: 'unknown field "text": expected {"texts": ["…"]} or {"jsonl": "…"}' },
  ])("$name → $status", async ({ body, status, message }) => {
    const res = await send(body());
    expect(res.status).toBe(status);
    const error = await errorOf(res);
    if (message) expect(error).toEqual({ code: "invalid_request", message, type: "invalid_request_error" });
    else expect(error.code).toBe("upstream_unreachable");
  });

  it("refuses a JSONL file over 8 MiB in the schema (a body under its own cap cannot carry one, but the rule stands alone)", () => {
    const over = ingest.ingestSchema.safeParse({ jsonl: "a".repeat(ingest.INGEST_MAX_JSONL_BYTES + 1) });
    expect(over.success).toBe(false);
    expect(over.error?.issues[0]?.message).toBe("the JSONL file is over the 8 MiB limit");
    expect(ingest.ingestSchema.safeParse({ jsonl: "a".repeat(ingest.INGEST_MAX_JSONL_BYTES) }).success).toBe(true);
  });
});

describe("kNN query vectors", () => {
  it.each([
    { vector: [1e200, 1e200], status: 422, message: "vector norm is not finite (values too large)" },
    { vector: [1.7e308], status: 422, message: "vector norm is not finite (values too large)" },
    { vector: [0, 0, 0], status: 422, message: "vector is all zeros: cosine similarity is undefined for it" },
    { vector: [1e-200, 0], status: 422, message: "vector norm underflows to 0 (values too small): cosine similarity is undefined for it" },
    { vector: [1e150, -1e150], status: 502 },
    { vector: [0.6, 0.8], status: 502 },
  ])("$vector → $status", async ({ vector, status, message }) => {
    const res = await post({ route: "/api/knn/query", handler: knnPost }, JSON.stringify({ vector, k: 3 }));
    expect(res.status).toBe(status);
    const error = await errorOf(res);
    if (message) expect(error).toEqual({ code: "invalid_request", message, type: "invalid_request_error" });
    else expect(error.code).toBe("upstream_unreachable");
  });
});
