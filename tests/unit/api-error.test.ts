import type { Logger } from "pino";
import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { ApiError, apiErrorFromResponse, parseJsonBody, parseSearchParams, withApiErrors } from "@/lib/http/api-error";

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
    { name: "ApiError 404", thrown: new ApiError(404, "not_found", "no such doc"), status: 404, code: "not_found", logged: false },
    { name: "ApiError 502", thrown: new ApiError(502, "upstream", "indexer unreachable"), status: 502, code: "upstream", logged: false },
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
  ])("$status → $code", async ({ res, status, code, message, client }) => {
    const err = await apiErrorFromResponse(res());
    expect(err).toBeInstanceOf(ApiError);
    expect({ status: err.status, code: err.code, message: err.message, client: err.isClientError }).toEqual({ status, code, message, client });
  });
});
