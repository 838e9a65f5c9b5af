/**
 * The browser side of an ended session: the console's fetch helpers, their
 * requests answered by the real proxy.ts (CONSOLE_TOKEN set), send the page to
 * /login?next=<this page> on the gate's 401, and not on an upstream's 401
 * passed on by a route (logging in again would not fix that). Body-less POSTs
 * send `{}` as JSON, so they pass the gate's JSON-only check.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { NextRequest } from "next/server";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

const dataDir = mkdtempSync(path.join(tmpdir(), "console-auth-browser-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
Object.assign(process.env, { CONSOLE_TOKEN: "browser-test-token", DATA_DIR: dataDir, LOG_LEVEL: "silent" });
delete process.env.CONSOLE_ALLOWED_HOSTS;
delete process.env.CONSOLE_TRUST_PROXY;

type FetchJson = typeof import("@/components/ui/fetch-json");
let fetchJson: FetchJson;
let fetchHealth: typeof import("@/lib/health/client").fetchHealth;
let proxy: typeof import("@/proxy").proxy;
let upstream401: () => Response;

/** What the page's fetch reached: the console's gate, as a browser on the console's own origin sends it. */
const seen: { url: string; method: string; contentType: string | null; body: string }[] = [];
let answer: (req: NextRequest) => Response;

beforeAll(async () => {
  vi.resetModules();
  fetchJson = await import("@/components/ui/fetch-json");
  ({ fetchHealth } = await import("@/lib/health/client"));
  ({ proxy } = await import("@/proxy"));
  const { toApiError } = await import("@/lib/upstreams/errors");
  const { UpstreamError } = await import("@/lib/upstreams/http");
  upstream401 = () => {
    const err = toApiError(new UpstreamError("http", "HTTP 401", 401, { error: { code: "unauthorized", message: "a valid bearer token is required" } }), "embed-worker");
    return (err as import("@/lib/http/api-error").ApiError).toResponse();
  };
  vi.stubGlobal("fetch", async (url: string, init: RequestInit = {}) => {
    const req = new NextRequest(new URL(url, "http://localhost:3000"), { ...init, headers: { host: "localhost:3000", "sec-fetch-site": "same-origin", ...(init.headers as Record<string, string>) } } as ConstructorParameters<typeof NextRequest>[1]);
    seen.push({ url, method: req.method, contentType: req.headers.get("content-type"), body: req.body ? await req.clone().text() : "" });
    return answer(req);
  });
});

let assign: ReturnType<typeof vi.fn>;
beforeEach(async () => {
  seen.length = 0;
  assign = vi.fn();
  vi.stubGlobal("window", { location: { pathname: "/dlq", search: "?stage=parse", assign } });
  // A fresh copy of login-redirect.ts each time ("navigate once" is per page load).
  vi.resetModules();
  fetchJson = await import("@/components/ui/fetch-json");
  ({ fetchHealth } = await import("@/lib/health/client"));
});

/** The gate's answer, or 200 `{}` where the request would go on to a route. */
const throughProxy = (req: NextRequest) => {
  const res = proxy(req);
  return res.headers.get("x-middleware-next") === "1" ? Response.json({}) : res;
};

describe("a 401 from the console's gate sends the page to the login form", () => {
  it.each([
    ["getJson", () => fetchJson.getJson("/api/knn/shards")],
    ["postJson", () => fetchJson.postJson("/api/knn/query", { doc_id: "a" })],
    ["fetchHealth", () => fetchHealth()],
  ])("%s", async (_name, call) => {
    answer = throughProxy;
    await expect(call()).rejects.toMatchObject({ status: 401, code: "unauthorized" });
    expect(assign).toHaveBeenCalledExactlyOnceWith("/login?next=%2Fdlq%3Fstage%3Dparse");
  });

  it("several refused requests navigate once", async () => {
    answer = throughProxy;
    await Promise.allSettled([fetchJson.getJson("/api/lag"), fetchJson.getJson("/api/knn/shards"), fetchHealth()]);
    expect(assign).toHaveBeenCalledTimes(1);
  });

  it("an upstream's 401 passed on by a route does not", async () => {
    answer = () => upstream401();
    await expect(fetchJson.postJson("/api/embed-worker/pause")).rejects.toMatchObject({ status: 401 });
    expect(assign).not.toHaveBeenCalled();
  });

  it("nor does any other refusal", async () => {
    answer = () => Response.json({ error: { code: "cross_site", message: "no" } }, { status: 403 });
    await expect(fetchJson.getJson("/api/lag")).rejects.toMatchObject({ status: 403 });
    expect(assign).not.toHaveBeenCalled();
  });
});

describe("body-less POSTs send {} as JSON", () => {
  it("postJson(url) with no body sends {} with Content-Type: application/json, which the gate lets through", async () => {
    answer = throughProxy;
    await expect(fetchJson.postJson("/api/auth/logout")).resolves.toEqual({});
    expect(seen).toEqual([{ url: "/api/auth/logout", method: "POST", contentType: "application/json", body: "{}" }]);
  });
});
