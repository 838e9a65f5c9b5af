import type { Logger } from "pino";
import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { ApiError, apiErrorFromResponse, formatBytes, parseJsonBody, parseSearchParams, withApiErrors } from "@/lib/http/api-error";

const bodySchema = z.object({ k: z.number().int().min(1).max(100), text: z.string().min(1) });
const querySchema = z.object({ limit: z.coerce.number().int().min(1).max(1000) });

function fakeLog() {
  const error = vi.fn();
  return { log: { error } as unknown as Logger, error };
}

const post = (body: string) => new Request("http://console.test/api/thing", { method: "POST", body, headers: { "content-type": "application/json" } });

const jsonRoute = (log: Logger) =>
  withApiErrors(
    () => log,
    async (request: Request) => Response.json(await parseJsonBody(request, bodySchema, { maxBytes: 1024, route: "/api/thing" })),
  );

describe("withApiErrors + parseJsonBody", () => {
  const cases: { name: string; body: string; status: number; code?: string; message?: RegExp }[] = [
    { name: "valid body", body: '{"k":5,"text":"hi"}', status: 200 },
    { name: "malformed JSON", body: '{"k":5,', status: 400, code: "invalid_json", message: /not valid JSON/ },
    { name: "empty body", body: "", status: 400, code: "invalid_json", message: /empty/ },
    { name: "wrong type", body: '{"k":"5","text":"hi"}', status: 422, code: "invalid_request", message: /^k: / },
    { name: "out of range", body: '{"k":500,"text":"hi"}', status: 422, code: "invalid_request", message: /^k: .*100/ },
    { name: "two issues", body: '{"k":0}', status: 422, code: "invalid_request", message: /\(and 1 more issue\)$/ },
    { name: "not an object", body: "[1,2]", status: 422, code: "invalid_request", message: /object/ },
  ];

  it.each(cases)("$name → $status", async ({ body, status, code, message }) => {
    const { log, error } = fakeLog();
    const res = await jsonRoute(log)(post(body), undefined);
    expect(res.status).toBe(status);
    const json = await res.json();
    if (code) {
      expect(json.error.code).toBe(code);
      expect(json.error.message).toMatch(message!);
      expect(json.error.message).not.toContain("\n");
    } else {
      expect(json).toEqual({ k: 5, text: "hi" });
    }
    expect(error).not.toHaveBeenCalled();
  });
});

describe("withApiErrors: thrown errors", () => {
  const cases: { name: string; thrown: unknown; status: number; code: string; logged: boolean }[] = [
    { name: "ApiError 404", thrown: new ApiError("not_found", "no such doc"), status: 404, code: "not_found", logged: false },
    { name: "ApiError 502", thrown: new ApiError("upstream_unreachable", "indexer unreachable"), status: 502, code: "upstream_unreachable", logged: false },
    { name: "plain Error", thrown: new Error("ECONNREFUSED secret-host:1234"), status: 500, code: "internal", logged: true },
    { name: "a ZodError from upstream data", thrown: new z.ZodError([]), status: 500, code: "internal", logged: true },
    { name: "a thrown string", thrown: "boom", status: 500, code: "internal", logged: true },
  ];

  it.each(cases)("$name → $status", async ({ thrown, status, code, logged }) => {
    const { log, error } = fakeLog();
    const handler = withApiErrors(
      () => log,
      () => {
        throw thrown;
      },
    );
    const res = await handler(new Request("http://console.test/api/knn/query?x=1"), undefined);
    expect(res.status).toBe(status);
    const json = await res.json();
    expect(json.error.code).toBe(code);
    if (status === 500) {
      // No internal detail reaches the client…
      expect(json.error.message).toBe("internal error");
      // …but one structured line reaches the log.
      expect(error).toHaveBeenCalledTimes(1);
      expect(error.mock.calls[0]![0]).toMatchObject({ err: thrown, method: "GET", path: "/api/knn/query" });
    }
    expect(error.mock.calls.length > 0).toBe(logged);
  });
});

describe("parseSearchParams", () => {
  it.each([
    { url: "http://c.test/x?limit=20", ok: true },
    { url: "http://c.test/x?limit=abc", ok: false },
    { url: "http://c.test/x?limit=0", ok: false },
    { url: "http://c.test/x", ok: false },
  ])("$url → ok=$ok", ({ url, ok }) => {
    if (ok) expect(parseSearchParams(url, querySchema)).toEqual({ limit: 20 });
    else expect(() => parseSearchParams(url, querySchema)).toThrowError(expect.objectContaining({ status: 422, code: "invalid_request" }));
  });
});

describe("apiErrorFromResponse", () => {
  it.each([
    { res: () => Response.json({ error: { code: "invalid_request", message: "k: too big" } }, { status: 422 }), status: 422, code: "invalid_request", message: "k: too big", client: true },
    { res: () => new Response("<html>bad gateway</html>", { status: 502, statusText: "Bad Gateway" }), status: 502, code: "http_error", message: "HTTP 502 Bad Gateway", client: false },
    { res: () => Response.json({ unexpected: true }, { status: 404 }), status: 404, code: "http_error", message: "HTTP 404", client: true },
    // A code outside the closed union is not trusted as one: the status line stands.
    { res: () => Response.json({ error: { code: "teapot", message: "short and stout" } }, { status: 418 }), status: 418, code: "http_error", message: "HTTP 418", client: true }, // not-a-code
  ])("$status → $code", async ({ res, status, code, message, client }) => {
    const err = await apiErrorFromResponse(res());
    expect(err).toBeInstanceOf(ApiError);
    expect({ status: err.status, code: err.code, message: err.message, client: err.isClientError }).toEqual({ status, code, message, client });
  });
});

describe("parseJsonBody: Content-Type", () => {
  const textSchema = z.object({ text: z.string() });
  const parse = (request: Request) => parseJsonBody(request, textSchema, { maxBytes: 1024, route: "/api/thing" });
  const body = new TextEncoder().encode('{"text":"hi"}');

  it.each([
    { type: undefined, ok: false },
    { type: "application/json", ok: true },
    { type: "application/json; charset=utf-8", ok: true },
    { type: "Application/JSON;charset=UTF-8", ok: true },
    { type: " application/json ", ok: true },
    { type: "text/plain", ok: false },
    { type: "text/plain; charset=utf-8", ok: false },
    { type: "application/jsonx", ok: false },
    { type: "application/json-patch+json", ok: false },
    { type: "application/x-www-form-urlencoded", ok: false },
    { type: "multipart/form-data; boundary=----x", ok: false },
    { type: "text/json", ok: false },
    { type: "application/xml", ok: false },
  ])("$type → ok=$ok", async ({ type, ok }) => {
    // A Uint8Array body gets no Content-Type of its own: `undefined` really sends none.
    const request = new Request("http://console.test/api/thing", { method: "POST", body, headers: type === undefined ? {} : { "content-type": type } });
    expect(request.headers.get("content-type")).toBe(type === undefined ? null : type.trim());
    if (ok) return expect(await parse(request)).toEqual({ text: "hi" });
    const err = await parse(request).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 415, code: "unsupported_media_type" });
    expect((err as ApiError).message).toMatch(/\/api\/thing takes JSON only .*: send Content-Type: application\/json$/);
    expect((err as ApiError).message).toContain(type === undefined ? "no Content-Type" : JSON.stringify(type.trim()));
  });

  it("checks the type before reading the body", async () => {
    const stream = countingStream(1_000_000);
    const err = await parse(new Request("http://console.test/api/thing", { method: "POST", body: stream.body, duplex: "half", headers: { "content-type": "text/plain" } } as RequestInit)).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 415 });
    expect(stream.pulled()).toBe(0);
  });
});

/** A request body of `total` bytes of `{"text":"aaa…"}` handed out in 1 KiB chunks as the reader pulls; counts what was pulled, notes a cancel. */
function countingStream(total: number) {
  const chunk = 1024;
  let sent = 0;
  let cancelled!: () => void;
  const cancel = new Promise<void>((resolve) => (cancelled = resolve));
  const head = new TextEncoder().encode('{"text":"');
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (sent >= total) return controller.close();
        const n = Math.min(chunk, total - sent);
        const bytes = new Uint8Array(n).fill(0x61);
        if (sent === 0) bytes.set(head.subarray(0, n));
        if (sent + n === total) bytes.set(new TextEncoder().encode('"}').subarray(0, n), n - 2);
        sent += n;
        controller.enqueue(bytes);
      },
      cancel: () => cancelled(),
    },
    { highWaterMark: 0 },
  );
  return { body, pulled: () => sent, cancel };
}

describe("parseJsonBody: size cap", () => {
  const textSchema = z.object({ text: z.string() });
  const limit = { maxBytes: 64 * 1024, route: "/api/knn/query" };
  const message = "request body is over the 64 KiB limit of /api/knn/query";
  /** `{"text":"aaa…"}` of exactly `bytes` bytes. */
  const exactly = (bytes: number, fill = "a") => `{"text":"${fill.repeat(bytes - 11)}"}`;

  it.each([
    { name: "exactly at the limit", body: exactly(64 * 1024), status: 200 },
    { name: "one byte over", body: exactly(64 * 1024 + 1), status: 413 },
    // The cap is on bytes, not characters: 40,000 two-byte characters are 80,000 bytes.
    { name: "under the limit in characters but over it in UTF-8 bytes", body: `{"text":"${"é".repeat(40_000)}"}`, status: 413 },
  ])("$name → $status", async ({ body, status }) => {
    const route = withApiErrors(
      () => fakeLog().log,
      async (request: Request) => Response.json(await parseJsonBody(request, textSchema, limit)),
    );
    const res = await route(new Request("http://console.test/api/knn/query", { method: "POST", body, headers: { "content-type": "application/json" } }), undefined);
    expect(res.status).toBe(status);
    if (status === 413) expect(await res.json()).toEqual({ error: { code: "body_too_large", message, type: "invalid_request_error" } });
  });

  it("refuses a Content-Length over the cap before reading a byte", async () => {
    const stream = countingStream(64 * 1024 + 1);
    const request = new Request("http://console.test/api/knn/query", { method: "POST", body: stream.body, duplex: "half", headers: { "content-type": "application/json", "content-length": String(64 * 1024 + 1) } } as RequestInit);
    await expect(parseJsonBody(request, textSchema, limit)).rejects.toMatchObject({ status: 413, code: "body_too_large", message });
    expect(stream.pulled()).toBe(0);
  });

  it("stops reading a chunked body without Content-Length as soon as it passes the cap, and cancels it", async () => {
    // 100 MiB: read to its end, the test would take seconds and the memory with it.
    const stream = countingStream(100 * 1024 * 1024);
    const request = new Request("http://console.test/api/knn/query", { method: "POST", body: stream.body, duplex: "half", headers: { "content-type": "application/json" } } as RequestInit);
    expect(request.headers.get("content-length")).toBeNull();
    await expect(parseJsonBody(request, textSchema, limit)).rejects.toMatchObject({ status: 413, code: "body_too_large", message });
    await stream.cancel;
    // What was pulled: the cap and the one chunk that passed it, plus what the Request's own stream buffered ahead.
    expect(stream.pulled()).toBeLessThanOrEqual(64 * 1024 + 16 * 1024);
  });

  it("reads a chunked body at the limit to its end", async () => {
    const stream = countingStream(64 * 1024);
    const request = new Request("http://console.test/api/knn/query", { method: "POST", body: stream.body, duplex: "half", headers: { "content-type": "application/json" } } as RequestInit);
    const parsed = await parseJsonBody(request, textSchema, limit);
    expect(parsed.text).toHaveLength(64 * 1024 - 11);
  });

  it("a body that is not UTF-8 is a 400", async () => {
    const request = new Request("http://console.test/api/knn/query", { method: "POST", body: new Uint8Array([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]), headers: { "content-type": "application/json" } });
    await expect(parseJsonBody(request, textSchema, limit)).rejects.toMatchObject({ status: 400, code: "invalid_json", message: "request body is not valid UTF-8" });
  });
});

describe("formatBytes", () => {
  it.each([
    [0, "0 bytes"],
    [1, "1 byte"],
    [1023, "1023 bytes"],
    [1024, "1 KiB"],
    [4 * 1024, "4 KiB"],
    [256 * 1024, "256 KiB"],
    [1536, "1.5 KiB"],
    [8 * 1024 * 1024, "8 MiB"],
  ])("%i → %s", (bytes, text) => expect(formatBytes(bytes)).toBe(text));
});

describe("parseJsonBody: a body that breaks off", () => {
  it("is a 400, not a 500 with a log line", async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"text":"'));
        controller.error(new Error("socket hang up"));
      },
    });
    const { log, error } = fakeLog();
    const route = withApiErrors(
      () => log,
      async (request: Request) => Response.json(await parseJsonBody(request, z.object({ text: z.string() }), { maxBytes: 1024, route: "/api/thing" })),
    );
    const res = await route(new Request("http://console.test/api/thing", { method: "POST", body, duplex: "half", headers: { "content-type": "application/json" } } as RequestInit), undefined);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: "bad_request", message: "request body could not be read to its end", type: "invalid_request_error" } });
    expect(error).not.toHaveBeenCalled();
  });
});
