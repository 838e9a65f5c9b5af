/**
 * The closed union of error codes (lib/http/error-codes.ts): every code answers
 * its one status with the one error body, from a console route and from a
 * worker alike; and no source names a code outside the union.
 */
import { readdirSync, readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, relative } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError, withApiErrors } from "@/lib/http/api-error";
import { ERROR_CODES, ERROR_STATUS, isErrorCode, type ErrorCode } from "@/lib/http/error-codes";
import { createWorkerServer, route } from "@/lib/http/worker-server";

const log = pino({ level: "silent" });
const typeOf = (status: number) => (status >= 500 ? "server_error" : "invalid_request_error");
// 499 is never sent (the client has gone): it is only counted, so it is not answered below.
const answered = ERROR_CODES.filter((c) => c !== "client_closed");

let server: Server;
let base = "";

beforeAll(async () => {
  server = createWorkerServer({
    log,
    routes: {
      "GET /fail/:code": route({
        handle: ({ params }) => {
          throw new ApiError(params.code as ErrorCode, `failed with ${params.code}`);
        },
      }),
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("every error code", () => {
  it("has a 4xx or 5xx status", () => {
    for (const code of ERROR_CODES) expect([code, Math.floor(ERROR_STATUS[code] / 100)]).toEqual([code, ERROR_STATUS[code] >= 500 ? 5 : 4]);
  });

  it.each(answered)("%s: a console route answers its status with the one body", async (code) => {
    const handler = withApiErrors(() => log, () => {
      throw new ApiError(code, `failed with ${code}`);
    });
    const res = await handler(new Request("http://console.test/api/x"), {});
    expect(res.status).toBe(ERROR_STATUS[code]);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.json()).toEqual({ error: { code, message: `failed with ${code}`, type: typeOf(ERROR_STATUS[code]) } });
  });

  it.each(answered)("%s: a worker answers its status with the same body", async (code) => {
    const res = await fetch(`${base}/fail/${code}`);
    expect(res.status).toBe(ERROR_STATUS[code]);
    expect(await res.json()).toEqual({ error: { code, message: `failed with ${code}`, type: typeOf(ERROR_STATUS[code]) } });
  });

  it("keeps the status it was received with when an answer is passed on", () => {
    const e = ApiError.received(418, "upstream_rejected", "short and stout");
    expect([e.status, e.body]).toEqual([418, { error: { code: "upstream_rejected", message: "short and stout", type: "invalid_request_error" } }]);
  });

  it("is told from a string that is not one", () => {
    expect(ERROR_CODES.every(isErrorCode)).toBe(true);
    for (const s of ["internal_error", "empty_inputs", "toString", "", 500, undefined]) expect(isErrorCode(s)).toBe(false);
  });
});

/**
 * Where a code literal shows in the sources: an `ApiError` built with it, a
 * comparison or field `code === "…"` / `code: "…"`, a test's `.code).toBe("…")`,
 * and a test table's `[…, 422, "…"]` (a status followed by a code). TypeScript
 * checks `new ApiError(…)`; this catches what it cannot: tests expecting a code
 * no answer carries, comparisons against a code that does not exist.
 */
const PATTERNS = [
  /\bnew ApiError\(\s*"([a-z][a-z0-9_]*)"/g,
  /\bApiError\.received\([^,]+,\s*"([a-z][a-z0-9_]*)"/g,
  /\bcode\s*(?:===|!==|:)\s*"([a-z][a-z0-9_]*)"/g,
  /\bcode\)\.toBe\("([a-z][a-z0-9_]*)"\)/g,
  /(?<![\d.:"])\b[45]\d\d,\s*"([a-z][a-z0-9_]*)"\s*[\],]/g,
];
// Lines about other vocabularies that share the word `code` (zod issue codes, typeof checks),
// and a test's deliberate stranger, marked `// not-a-code`.
const OTHER_VOCABULARY = /addIssue|issue\.code|typeof |\/\/ not-a-code/;

function codeLiterals(source: string): { code: string; line: number }[] {
  const found: { code: string; line: number }[] = [];
  source.split("\n").forEach((text, i) => {
    if (OTHER_VOCABULARY.test(text)) return;
    for (const re of PATTERNS) for (const m of text.matchAll(re)) found.push({ code: m[1]!, line: i + 1 });
  });
  return found;
}

const ROOT = join(__dirname, "../..");
// tests/doubles speak other services' wire formats (an InferMesh-shaped server, …), not ours.
const SKIP = new Set(["node_modules", ".next", ".venv", "doubles"]);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (SKIP.has(e.name)) return [];
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return /\.(ts|tsx|mjs)$/.test(e.name) ? [path] : [];
  });
}

describe("code literals in the sources", () => {
  it("finds a code outside the union, and none inside it", () => {
    expect(codeLiterals('throw new ApiError("internal_error", "x");\nexpect(e.code).toBe("empty_inputs");\n  ["x", 422, "missing_inputs"],').map((f) => f.code)).toEqual([ // not-a-code
      "internal_error",
      "empty_inputs",
      "missing_inputs",
    ]);
    expect(codeLiterals('ctx.addIssue({ code: "custom", message });\nnew ReddbError(500, "x");\nif (typeof code === "string") {}')).toEqual([]);
  });

  it("names only codes of the union", () => {
    const files = ["app", "lib", "workers", "components", "tests", "e2e", "bench", "scripts"].flatMap((d) => sources(join(ROOT, d)));
    const all = files.flatMap((f) => codeLiterals(readFileSync(f, "utf8")).map((l) => ({ ...l, file: relative(ROOT, f) })));
    // The scan reads what it should: the route handlers' and tests' codes are there.
    expect(all.length).toBeGreaterThan(100);
    expect(all.filter((l) => !isErrorCode(l.code)).map((l) => `${l.file}:${l.line} ${l.code}`)).toEqual([]);
  });
});
