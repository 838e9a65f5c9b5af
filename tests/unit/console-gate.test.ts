/**
 * The console's request gate as Next runs it: proxy() from proxy.ts called with
 * real NextRequest objects, under an open console and one with CONSOLE_TOKEN,
 * plus the matcher through Next's own matching helper. Each table names its
 * rows' expected answer; the cross products check that the checks apply in
 * the documented order (Host → cross-site → content type → token).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { unstable_doesMiddlewareMatch } from "next/experimental/testing/server";
import { NextRequest } from "next/server";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

const TOKEN = "gate-test-token-0123456789";
const dataDir = mkdtempSync(path.join(tmpdir(), "console-gate-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

type ProxyModule = typeof import("@/proxy");
type Session = typeof import("@/lib/auth/session");

/** A fresh module graph over `env`: consoleConfig() parses once per graph, as it does once per Next bundle. */
async function load(env: Record<string, string | undefined>) {
  for (const [k, v] of Object.entries({ DATA_DIR: dataDir, LOG_LEVEL: "silent", CONSOLE_ALLOWED_HOSTS: undefined, CONSOLE_TRUST_PROXY: undefined, CONSOLE_TOKEN: undefined, ...env })) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  vi.resetModules();
  const mod: ProxyModule = await import("@/proxy");
  const session: Session = await import("@/lib/auth/session");
  const { consoleConfig } = await import("@/lib/config/console");
  return { proxy: mod.proxy, config: mod.config, session, cfg: consoleConfig() };
}

type Loaded = Awaited<ReturnType<typeof load>>;

interface Req {
  path?: string;
  method?: string;
  headers?: Record<string, string | undefined>;
  /** Sent as bytes, so no Content-Type is implied. */
  body?: string;
}

function request({ path: p = "/api/health", method = "GET", headers = {}, body }: Req): NextRequest {
  const h = new Headers();
  const all = { host: "localhost:3000", ...headers };
  for (const [k, v] of Object.entries(all)) if (v !== undefined) h.set(k, v);
  const withBody = body ?? (["GET", "HEAD"].includes(method) ? undefined : "{}");
  return new NextRequest(`http://localhost:3000${p}`, { method, headers: h, body: withBody === undefined ? undefined : new TextEncoder().encode(withBody) });
}

/** What the gate did: "pass" (Next goes on to the route), a status and error code, or a redirect with its target. */
async function outcome(proxy: ProxyModule["proxy"], req: NextRequest): Promise<string> {
  const res = proxy(req);
  if (res.headers.get("x-middleware-next") === "1") return "pass";
  if (res.status === 307 || res.status === 303) {
    const to = new URL(res.headers.get("location")!, "http://localhost:3000");
    return `${res.status} ${to.pathname} next=${to.searchParams.get("next")}`;
  }
  const body = (await res.json()) as { error: { code: string } };
  return `${res.status} ${body.error.code}`;
}

const METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"] as const;
const isMutating = (m: string) => !["GET", "HEAD", "OPTIONS"].includes(m);

describe("matcher: every path but Next's static assets", () => {
  let config: ProxyModule["config"];
  beforeAll(async () => ({ config } = await load({})));
  it.each([
    ["/", true],
    ["/dlq", true],
    ["/login", true],
    ["/login?next=/dlq", true],
    ["/api/auth/login", true],
    ["/api/auth/logout", true],
    ["/api/live", true],
    ["/api/health", true],
    ["/api/embed-worker/dlq/download", true],
    ["/favicon.ico", true],
    ["/_next/static/chunks/main.js", false],
    ["/_next/image?url=%2Fa.png&w=64&q=75", false],
  ])("%s → proxy runs: %s", (url, want) => {
    expect(unstable_doesMiddlewareMatch({ config, url })).toBe(want);
  });
});

describe("Host allow-list", () => {
  const hosts: { name: string; headers: Record<string, string | undefined>; env?: Record<string, string>; want: "ok" | 421 }[] = [
    { name: "localhost with port", headers: { host: "localhost:3000" }, want: "ok" },
    { name: "localhost without port", headers: { host: "localhost" }, want: "ok" },
    { name: "upper-case name", headers: { host: "LOCALHOST:3000" }, want: "ok" },
    { name: "127.0.0.1 with port", headers: { host: "127.0.0.1:3000" }, want: "ok" },
    { name: "IPv6 loopback with port", headers: { host: "[::1]:3000" }, want: "ok" },
    { name: "IPv6 loopback without port", headers: { host: "[::1]" }, want: "ok" },
    { name: "bare IPv6 (invalid Host)", headers: { host: "::1" }, want: 421 },
    { name: "foreign name (DNS rebinding)", headers: { host: "evil.example:3000" }, want: 421 },
    { name: "look-alike suffix", headers: { host: "localhost.evil.example" }, want: 421 },
    { name: "userinfo trick", headers: { host: "localhost@evil.example" }, want: 421 },
    { name: "port out of range", headers: { host: "localhost:99999" }, want: 421 },
    { name: "missing Host", headers: { host: undefined }, want: 421 },
    { name: "empty Host", headers: { host: "" }, want: 421 },
    { name: "untrusted X-Forwarded-Host is ignored (foreign Host)", headers: { host: "evil.example", "x-forwarded-host": "localhost" }, want: 421 },
    { name: "untrusted X-Forwarded-Host is ignored (good Host)", headers: { host: "localhost:3000", "x-forwarded-host": "evil.example" }, want: "ok" },
    { name: "trusted X-Forwarded-Host decides", headers: { host: "10.0.0.5:3000", "x-forwarded-host": "console.example.com" }, env: { CONSOLE_TRUST_PROXY: "1", CONSOLE_ALLOWED_HOSTS: "console.example.com" }, want: "ok" },
    { name: "trusted X-Forwarded-Host, foreign", headers: { host: "console.example.com", "x-forwarded-host": "evil.example" }, env: { CONSOLE_TRUST_PROXY: "1", CONSOLE_ALLOWED_HOSTS: "console.example.com" }, want: 421 },
    { name: "trusted proxy, no X-Forwarded-Host: Host decides", headers: { host: "console.example.com" }, env: { CONSOLE_TRUST_PROXY: "1", CONSOLE_ALLOWED_HOSTS: "console.example.com" }, want: "ok" },
    { name: "name:port entry, that port", headers: { host: "console.lan:8443" }, env: { CONSOLE_ALLOWED_HOSTS: "console.lan:8443" }, want: "ok" },
    { name: "name:port entry, other port", headers: { host: "console.lan:3000" }, env: { CONSOLE_ALLOWED_HOSTS: "console.lan:8443" }, want: 421 },
    { name: "name:port entry, no port", headers: { host: "console.lan" }, env: { CONSOLE_ALLOWED_HOSTS: "console.lan:8443" }, want: 421 },
    { name: "IPv6 entry with port", headers: { host: "[fd00::1]:3000" }, env: { CONSOLE_ALLOWED_HOSTS: "[fd00::1]:3000" }, want: "ok" },
    { name: "* turns the check off", headers: { host: "anything.example" }, env: { CONSOLE_ALLOWED_HOSTS: "*" }, want: "ok" },
    { name: "* with no Host at all", headers: { host: undefined }, env: { CONSOLE_ALLOWED_HOSTS: "*" }, want: "ok" },
  ];
  const paths = ["/api/health", "/dlq", "/login", "/api/auth/login"];

  for (const token of [undefined, TOKEN]) {
    describe(token ? "token configured" : "open console", () => {
      it.each(hosts)("$name → $want", async ({ headers, env, want }) => {
        const { proxy } = await load({ CONSOLE_TOKEN: token, ...env });
        for (const p of paths) {
          const got = await outcome(proxy, request({ path: p, headers: { authorization: `Bearer ${TOKEN}`, ...headers } }));
          if (want === 421) expect(got, p).toBe("421 misdirected_host");
          else expect(got, p).toBe("pass");
        }
      });
    });
  }

  it.each(hosts)("GET /api/live answers probes whatever the Host: $name", async ({ headers, env }) => {
    const { proxy } = await load({ CONSOLE_TOKEN: TOKEN, ...env });
    expect(await outcome(proxy, request({ path: "/api/live", headers }))).toBe("pass");
  });

  it("a POST to /api/live still meets the Host check", async () => {
    const { proxy } = await load({});
    expect(await outcome(proxy, request({ path: "/api/live", method: "POST", headers: { host: "evil.example", "content-type": "application/json" } }))).toBe("421 misdirected_host");
  });

  it("the 421 names the variable to change and is JSON with no-store", async () => {
    const { proxy } = await load({});
    const res = proxy(request({ headers: { host: "evil.example" } }));
    expect(res.status).toBe(421);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("CONSOLE_ALLOWED_HOSTS");
  });
});

describe("mutating methods: cross-site (403), then JSON only (415)", () => {
  const sites: { name: string; headers: Record<string, string>; cross: boolean }[] = [
    { name: "no Sec-Fetch-Site, no Origin (curl)", headers: {}, cross: false },
    { name: "Sec-Fetch-Site same-origin", headers: { "sec-fetch-site": "same-origin" }, cross: false },
    { name: "Sec-Fetch-Site none", headers: { "sec-fetch-site": "none" }, cross: false },
    { name: "Sec-Fetch-Site same-site", headers: { "sec-fetch-site": "same-site" }, cross: true },
    { name: "Sec-Fetch-Site cross-site", headers: { "sec-fetch-site": "cross-site" }, cross: true },
    { name: "same Origin", headers: { origin: "http://localhost:3000" }, cross: false },
    { name: "same Origin and same-origin", headers: { origin: "http://localhost:3000", "sec-fetch-site": "same-origin" }, cross: false },
    { name: "Origin of another port", headers: { origin: "http://localhost:4000" }, cross: true },
    { name: "Origin of another site", headers: { origin: "https://evil.example" }, cross: true },
    { name: "Origin: null", headers: { origin: "null" }, cross: true },
    { name: "garbage Origin", headers: { origin: "not a url" }, cross: true },
    { name: "same-origin claimed, foreign Origin", headers: { origin: "https://evil.example", "sec-fetch-site": "same-origin" }, cross: true },
  ];
  const types: { name: string; type: string | undefined; json: boolean }[] = [
    { name: "application/json", type: "application/json", json: true },
    { name: "json; charset", type: "application/json; charset=utf-8", json: true },
    { name: "upper-case JSON", type: "Application/JSON", json: true },
    { name: "text/plain", type: "text/plain", json: false },
    { name: "form", type: "application/x-www-form-urlencoded", json: false },
    { name: "multipart", type: "multipart/form-data; boundary=x", json: false },
    { name: "none", type: undefined, json: false },
  ];
  const cases = METHODS.flatMap((method) => sites.flatMap((site) => types.map((type) => ({ method, site, type }))));

  for (const [label, token] of [["open console", undefined], ["token configured, bearer sent", TOKEN]] as const) {
    it(`${label}: ${cases.length} method × site × content type combinations`, async () => {
      const { proxy } = await load({ CONSOLE_TOKEN: token });
      for (const { method, site, type } of cases) {
        const want = !isMutating(method) ? "pass" : site.cross ? "403 cross_site" : !type.json ? "415 unsupported_media_type" : "pass";
        for (const p of ["/api/ingest", "/api/auth/login", "/api/auth/logout"]) {
          const req = request({ path: p, method, headers: { ...site.headers, "content-type": type.type, authorization: token && `Bearer ${token}` } });
          expect(await outcome(proxy, req), `${method} ${p} ${site.name} ${type.name}`).toBe(want);
        }
      }
    });
  }

  it("a cross-site request from a foreign Host gets 421 first", async () => {
    const { proxy } = await load({});
    expect(await outcome(proxy, request({ method: "POST", headers: { host: "evil.example", origin: "https://evil.example", "content-type": "text/plain" } }))).toBe("421 misdirected_host");
  });

  it("behind a trusted TLS proxy, Origin is compared with X-Forwarded-Host", async () => {
    const { proxy } = await load({ CONSOLE_TRUST_PROXY: "1", CONSOLE_ALLOWED_HOSTS: "console.example.com" });
    const headers = { host: "127.0.0.1:3000", "x-forwarded-host": "console.example.com", "content-type": "application/json" };
    expect(await outcome(proxy, request({ method: "POST", headers: { ...headers, origin: "https://console.example.com" } }))).toBe("pass");
    expect(await outcome(proxy, request({ method: "POST", headers: { ...headers, origin: "https://console.example.com:8443" } }))).toBe("403 cross_site");
  });

  it("the 415 says what to send", async () => {
    const { proxy } = await load({});
    const res = proxy(request({ method: "POST", headers: { "content-type": "text/plain" } }));
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("send Content-Type: application/json");
  });
});

describe("token configured: credentials × path kinds × methods", () => {
  let loaded: Loaded;
  const creds: Record<string, () => Record<string, string>> = {};
  beforeAll(async () => {
    loaded = await load({ CONSOLE_TOKEN: TOKEN, CONSOLE_SESSION_TTL: "3600" });
    const { session, cfg } = loaded;
    const valid = session.issueSession(TOKEN, 3600).value;
    const expired = session.issueSession(TOKEN, 3600, Date.now() - 3601_000).value;
    const revoked = session.issueSession(TOKEN, 3600);
    session.revocations(cfg.access.stateDir).revoke(revoked.claims);
    const otherToken = session.issueSession("another-token", 3600).value;
    // Same session id and times, one digit of the expiry raised: the MAC no longer fits.
    const tampered = valid.replace(/\.(\d+)\.([^.]+)$/, (_m, exp: string, mac: string) => `.${Number(exp) + 1}.${mac}`);
    const cookie = (v: string) => ({ cookie: `theme=dark; embedline_session=${v}` });
    Object.assign(creds, {
      none: () => ({}),
      "bearer right": () => ({ authorization: `Bearer ${TOKEN}` }),
      "bearer right, lower-case scheme": () => ({ authorization: `bearer ${TOKEN}` }),
      "bearer wrong, same length": () => ({ authorization: `Bearer ${"x".repeat(TOKEN.length)}` }),
      "bearer wrong, other length": () => ({ authorization: "Bearer short" }),
      "Basic scheme": () => ({ authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString("base64")}` }),
      "cookie valid": () => cookie(valid),
      "cookie valid beside a stale one": () => ({ cookie: `embedline_session=junk; embedline_session=${valid}` }),
      "cookie expired": () => cookie(expired),
      "cookie revoked (logged out)": () => cookie(revoked.value),
      "cookie tampered": () => cookie(tampered),
      "cookie from another token": () => cookie(otherToken),
      "cookie holding the raw token": () => cookie(TOKEN),
    });
  });
  const good = new Set(["bearer right", "bearer right, lower-case scheme", "cookie valid", "cookie valid beside a stale one"]);
  const credNames = ["none", "bearer right", "bearer right, lower-case scheme", "bearer wrong, same length", "bearer wrong, other length", "Basic scheme", "cookie valid", "cookie valid beside a stale one", "cookie expired", "cookie revoked (logged out)", "cookie tampered", "cookie from another token", "cookie holding the raw token"];
  const paths: { path: string; kind: "api" | "page" | "public" }[] = [
    { path: "/api/health?degraded=200", kind: "api" },
    { path: "/api/embed-worker/dlq/download?from=1", kind: "api" },
    { path: "/api/ingest", kind: "api" },
    { path: "/dlq?stage=parse", kind: "page" },
    { path: "/", kind: "page" },
    { path: "/login?next=/dlq", kind: "public" },
    { path: "/api/auth/login", kind: "public" },
    { path: "/api/auth/logout", kind: "public" },
    { path: "/api/live", kind: "public" },
  ];

  it.each(credNames)("%s", async (cred) => {
    for (const { path: p, kind } of paths) {
      for (const method of METHODS) {
        const headers = { ...creds[cred]!(), "content-type": "application/json" };
        const got = await outcome(loaded.proxy, request({ path: p, method, headers }));
        const pathname = p.split("?")[0]!;
        const want =
          kind === "public" || good.has(cred)
            ? "pass"
            : kind === "api"
              ? "401 unauthorized"
              : `${["GET", "HEAD"].includes(method) ? 307 : 303} /login next=${p}`;
        expect(got, `${method} ${p} (${pathname})`).toBe(want);
      }
    }
  });

  it("a 401 carries www-authenticate: Bearer and says how to log in", async () => {
    const res = loaded.proxy(request({ path: "/api/health" }));
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe("Bearer");
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/log in|Bearer/);
  });

  it("a page's redirect keeps path and query but drops Next's _rsc marker", async () => {
    const res = loaded.proxy(request({ path: "/search?doc_id=a%20b&_rsc=1x2y" }));
    expect(res.status).toBe(307);
    const next = new URL(res.headers.get("location")!, "http://localhost:3000").searchParams.get("next");
    expect(next).toBe("/search?doc_id=a+b");
  });

  it("the revocation set by a route is seen by the proxy: one store per process, on globalThis", async () => {
    const { session } = loaded;
    const s = session.issueSession(TOKEN, 3600);
    const req = () => request({ path: "/api/health", headers: { cookie: `embedline_session=${s.value}` } });
    expect(await outcome(loaded.proxy, req())).toBe("pass");
    // A second module graph stands in for the route handlers' bundle.
    vi.resetModules();
    const routeSide: Session = await import("@/lib/auth/session");
    routeSide.revocations(loaded.cfg.access.stateDir).revoke(s.claims);
    expect(await outcome(loaded.proxy, req())).toBe("401 unauthorized");
  });
});

describe("paths Next could not decode", () => {
  it.each([
    ["/api/topics/%ZZ/messages", "400 invalid_path"],
    ["/api/embed-worker/%E0%A4%A", "400 invalid_path"],
    ["/topics/%C3%28", "400 invalid_path"],
    ["/topics/agent%2Eresults", "pass"],
    ["/api/topics/embeddings/messages?key=%ZZ", "pass"],
  ])("%s → %s", async (p, want) => {
    const { proxy } = await load({});
    expect(await outcome(proxy, request({ path: p }))).toBe(want);
  });
});

describe("open console (no token): nothing asks for credentials", () => {
  it.each(["/api/health", "/dlq", "/", "/api/embed-worker/dlq/download"])("%s passes with no credentials", async (p) => {
    const { proxy } = await load({});
    expect(await outcome(proxy, request({ path: p }))).toBe("pass");
  });
});
