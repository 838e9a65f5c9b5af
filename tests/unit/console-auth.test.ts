/**
 * Console sessions, login and logout: the session cookie's signature, expiry
 * and revocation (persisted across a restart), and the login and logout route
 * handlers called with real Requests, their cookies then checked by proxy.ts
 * and the routes' own guard. Time moves through a faked Date, never sleeps.
 */
import fs, { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { NextRequest } from "next/server";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { safeNext } from "@/lib/auth/safe-next";
import { waitFor } from "../harness/wait-for";

const TOKEN = "auth-test-token-abcdefghijklmnop";
const TTL = 3600;
const roots: string[] = [];
afterAll(() => roots.forEach((d) => rmSync(d, { recursive: true, force: true })));
function freshDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), "console-auth-"));
  roots.push(d);
  return d;
}

/** A fresh module graph over `env` (consoleConfig() parses once per graph) and a fresh login limiter. */
async function load(env: Record<string, string | undefined> = {}) {
  const dataDir = freshDir();
  const all = { DATA_DIR: dataDir, LOG_LEVEL: "info", CONSOLE_TOKEN: TOKEN, CONSOLE_SESSION_TTL: String(TTL), CONSOLE_TRUST_PROXY: undefined, CONSOLE_ALLOWED_HOSTS: undefined, ...env };
  for (const [k, v] of Object.entries(all)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  delete (globalThis as Record<symbol, unknown>)[Symbol.for("embedline.console.loginLimiter")];
  vi.resetModules();
  const [login, logout, proxy, session, guard, config] = await Promise.all([
    import("@/app/api/auth/login/route"),
    import("@/app/api/auth/logout/route"),
    import("@/proxy"),
    import("@/lib/auth/session"),
    import("@/lib/auth/guard"),
    import("@/lib/config/console"),
  ]);
  return { login: login.POST, LOGIN_MAX_BYTES: login.LOGIN_MAX_BYTES, logout: logout.POST, proxy: proxy.proxy, session, requireToken: guard.requireToken, cfg: config.consoleConfig(), dataDir };
}

/**
 * Log lines the console wrote to stdout. pino hands them to sonic-boom, which
 * writes fd 1 with fs.write (asynchronously) or fs.writeSync: both are caught.
 */
let logged: string[] = [];
beforeEach(() => {
  logged = [];
  const text = (data: unknown) => (typeof data === "string" ? data : Buffer.isBuffer(data) ? data.toString("utf8") : undefined);
  const writeSync = fs.writeSync.bind(fs) as (...a: unknown[]) => number;
  vi.spyOn(fs, "writeSync").mockImplementation(((fd: number, data: unknown, ...rest: unknown[]) => {
    const t = fd === 1 ? text(data) : undefined;
    if (t === undefined) return writeSync(fd, data, ...rest);
    logged.push(...t.split("\n").filter(Boolean));
    return Buffer.byteLength(t);
  }) as typeof fs.writeSync);
  const write = fs.write.bind(fs) as (...a: unknown[]) => void;
  vi.spyOn(fs, "write").mockImplementation(((fd: number, data: unknown, ...rest: unknown[]) => {
    const t = fd === 1 ? text(data) : undefined;
    if (t === undefined) return write(fd, data, ...rest);
    logged.push(...t.split("\n").filter(Boolean));
    const done = rest.at(-1) as (err: null, n: number) => void;
    process.nextTick(() => done(null, Buffer.byteLength(t)));
  }) as typeof fs.write);
});
/** The `audit` fields of the log lines so far, once at least `count` have been written. */
async function auditLines(count: number): Promise<{ audit: string; client?: string }[]> {
  return waitFor(`${count} audit log lines`, () => {
    const lines = logged.map((l) => JSON.parse(l) as { audit?: string; client?: string }).filter((l): l is { audit: string; client?: string } => l.audit !== undefined);
    return lines.length >= count && lines;
  }, 5000, 10);
}
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

const ctx = { params: Promise.resolve({}) };
type Body = string | Record<string, unknown>;

function post(url: string, body: Body, headers: Record<string, string | undefined> = {}): Request {
  const all = Object.entries({ host: "localhost:3000", "content-type": "application/json", ...headers }).filter((e): e is [string, string] => e[1] !== undefined);
  return new Request(url.startsWith("http") ? url : `http://localhost:3000${url}`, {
    method: "POST",
    headers: all,
    body: new TextEncoder().encode(typeof body === "string" ? body : JSON.stringify(body)),
  });
}

const cookieOf = (res: Response) => res.headers.get("set-cookie") ?? "";
const sessionValue = (setCookie: string) => /embedline_session=([^;]*)/.exec(setCookie)?.[1] ?? "";
async function code(res: Response): Promise<string> {
  return `${res.status} ${((await res.json()) as { error?: { code: string } }).error?.code ?? "ok"}`;
}
/** Whether proxy.ts lets an API request with this cookie through. */
function proxyPasses(proxy: (r: NextRequest) => Response, value: string): boolean {
  const res = proxy(new NextRequest("http://localhost:3000/api/health", { headers: { host: "localhost:3000", cookie: `embedline_session=${value}` } }));
  return res.headers.get("x-middleware-next") === "1";
}

describe("session cookies", () => {
  it("are v1.<sid>.<issuedAt>.<expiresAt>.<mac>, hold no token, and verify until they expire", async () => {
    const { session, cfg } = await load();
    const now = Date.UTC(2026, 0, 1);
    const { value, claims } = session.issueSession(TOKEN, TTL, now);
    expect(value).toMatch(/^v1\.[A-Za-z0-9_-]{22}\.\d+\.\d+\.[A-Za-z0-9_-]{43}$/);
    expect(value).not.toContain(TOKEN);
    expect(claims.expiresAt - claims.issuedAt).toBe(TTL);
    expect(session.verifySession(value, cfg, now)).toEqual(claims);
    expect(session.verifySession(value, cfg, now + (TTL - 1) * 1000)).toEqual(claims);
    expect(session.verifySession(value, cfg, now + TTL * 1000)).toBeNull();
  });

  it.each([
    ["signed under another token", (v: string, s: typeof import("@/lib/auth/session")) => s.issueSession("other", TTL).value],
    ["expiry pushed out", (v: string) => v.replace(/\.(\d+)\.([^.]+)$/, (_m, e: string, mac: string) => `.${Number(e) + 9999}.${mac}`)],
    ["issue time changed", (v: string) => v.replace(/^(v1\.[^.]+\.)(\d+)/, (_m, p: string, i: string) => `${p}${Number(i) - 1}`)],
    ["session id changed", (v: string) => `v1.${"A".repeat(22)}${v.slice(25)}`],
    ["mac flipped", (v: string) => `${v.slice(0, -1)}${v.endsWith("A") ? "B" : "A"}`],
    ["version 2", (v: string) => v.replace(/^v1/, "v2")],
    ["no mac", (v: string) => v.slice(0, v.lastIndexOf("."))],
    ["empty", () => ""],
  ])("are refused when %s", async (_name, change) => {
    const { session, cfg } = await load();
    const { value } = session.issueSession(TOKEN, TTL);
    expect(session.verifySession(value, cfg)).not.toBeNull();
    expect(session.verifySession(change(value, session), cfg)).toBeNull();
  });

  it("changing CONSOLE_TOKEN ends every session", async () => {
    const first = await load();
    const { value } = first.session.issueSession(TOKEN, TTL);
    expect(proxyPasses(first.proxy, value)).toBe(true);
    const second = await load({ CONSOLE_TOKEN: `${TOKEN}-rotated` });
    expect(proxyPasses(second.proxy, value)).toBe(false);
  });

  it("a lower CONSOLE_SESSION_TTL shortens sessions issued under a higher one", async () => {
    const { session, cfg } = await load({ CONSOLE_SESSION_TTL: "600" });
    const now = Date.now();
    const { value } = session.issueSession(TOKEN, TTL, now);
    expect(session.verifySession(value, cfg, now + 599_000)).not.toBeNull();
    expect(session.verifySession(value, cfg, now + 600_000)).toBeNull();
  });
});

describe("revocation list", () => {
  it("survives a restart (a fresh store reading the file), written atomically", async () => {
    const { session, cfg } = await load();
    const a = session.issueSession(TOKEN, TTL);
    const b = session.issueSession(TOKEN, TTL);
    session.revocations(cfg.access.stateDir).revoke(a.claims);
    expect(session.verifySession(a.value, cfg)).toBeNull();
    expect(session.verifySession(b.value, cfg)).not.toBeNull();
    expect(readdirSync(cfg.access.stateDir)).toEqual([session.REVOCATIONS_FILE]); // no temp file left behind
    const restarted = new session.RevocationStore(cfg.access.stateDir);
    expect(restarted.isRevoked(a.claims.sid)).toBe(true);
    expect(restarted.isRevoked(b.claims.sid)).toBe(false);
  });

  it("drops an entry once its session would have expired anyway", async () => {
    const { session, cfg } = await load();
    const t0 = Date.now();
    const store = new session.RevocationStore(cfg.access.stateDir);
    const old = session.issueSession(TOKEN, TTL, t0);
    store.revoke(old.claims, t0);
    const later = t0 + (TTL + 1) * 1000;
    const fresh = session.issueSession(TOKEN, TTL, later);
    store.revoke(fresh.claims, later);
    const file = JSON.parse(readFileSync(store.file, "utf8")) as { revoked: Record<string, number> };
    expect(Object.keys(file.revoked)).toEqual([fresh.claims.sid]);
    expect(store.size).toBe(1);
  });

  it.each([
    ["corrupt JSON", "{not json", 1],
    ["another shape", JSON.stringify({ version: 9, revoked: [] }), 1],
    ["missing", undefined, 0],
  ])("a %s file is an empty list with %i warning(s)", async (_name, content, warnings) => {
    const { session } = await load();
    const dir = freshDir();
    if (content !== undefined) writeFileSync(path.join(dir, session.REVOCATIONS_FILE), content);
    const warn = vi.fn();
    const store = new session.RevocationStore(dir, warn);
    expect(store.isRevoked("A".repeat(22))).toBe(false);
    expect(store.isRevoked("B".repeat(22))).toBe(false);
    expect(warn).toHaveBeenCalledTimes(warnings);
    // And it can be written again.
    const s = session.issueSession(TOKEN, TTL);
    store.revoke(s.claims);
    expect(new session.RevocationStore(dir).isRevoked(s.claims.sid)).toBe(true);
  });
});

describe("POST /api/auth/login", () => {
  it("right token → 200 {next} and an HttpOnly, SameSite=Strict session cookie that proxy and guard accept", async () => {
    const { login, proxy, requireToken } = await load();
    const res = await login(post("/api/auth/login", { token: TOKEN, next: "/dlq?stage=parse" }), ctx);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ next: "/dlq?stage=parse" });
    const setCookie = cookieOf(res);
    expect(setCookie.split("; ").slice(1).sort()).toEqual(["HttpOnly", `Max-Age=${TTL}`, "Path=/", "SameSite=Strict"]);
    expect(setCookie).not.toContain(TOKEN);
    const value = sessionValue(setCookie);
    expect(proxyPasses(proxy, value)).toBe(true);
    expect(requireToken(new Request("http://localhost:3000/api/ingest", { headers: { cookie: `embedline_session=${value}` } }))).toBe("session");
    expect(() => requireToken(new Request("http://localhost:3000/api/ingest"))).toThrow(/log in/);
  });

  it.each([
    ["//evil.example", "/"],
    ["https://evil.example/x", "/"],
    [undefined, "/"],
  ])("next=%j is answered as %j", async (next, want) => {
    const { login } = await load();
    const res = await login(post("/api/auth/login", { token: TOKEN, next }), ctx);
    expect(await res.json()).toEqual({ next: want });
  });

  it.each([
    { name: "plain http", url: "http://localhost:3000/api/auth/login", headers: {}, trust: "0", secure: false },
    // Next builds the URL's scheme from the client's own X-Forwarded-Proto: only a trusted proxy's header counts.
    { name: "https URL, no trusted proxy", url: "https://localhost:3000/api/auth/login", headers: {}, trust: "0", secure: false },
    { name: "untrusted X-Forwarded-Proto https", url: "http://localhost:3000/api/auth/login", headers: { "x-forwarded-proto": "https" }, trust: "0", secure: false },
    { name: "trusted X-Forwarded-Proto https", url: "http://localhost:3000/api/auth/login", headers: { "x-forwarded-proto": "https" }, trust: "1", secure: true },
    { name: "trusted X-Forwarded-Proto http over an https URL", url: "https://localhost:3000/api/auth/login", headers: { "x-forwarded-proto": "http" }, trust: "1", secure: false },
    { name: "trusted proxy, no X-Forwarded-Proto, https URL", url: "https://localhost:3000/api/auth/login", headers: {}, trust: "1", secure: false },
  ])("Secure: $name → $secure", async ({ url, headers, trust, secure }) => {
    const { login, logout } = await load({ CONSOLE_TRUST_PROXY: trust });
    const res = await login(post(url, { token: TOKEN }, headers), ctx);
    expect(res.status).toBe(200);
    expect(cookieOf(res).split("; ").includes("Secure")).toBe(secure);
    const out = await logout(post(url.replace("login", "logout"), {}, headers), ctx);
    expect(cookieOf(out).split("; ").includes("Secure")).toBe(secure);
  });

  it.each([
    { name: "wrong token", body: { token: "nope" }, headers: {}, want: "401 invalid_token" },
    { name: "token of another length", body: { token: `${TOKEN}x` }, headers: {}, want: "401 invalid_token" },
    { name: "no token field", body: { next: "/" }, headers: {}, want: "422 invalid_request" },
    { name: "not JSON", body: "token=x", headers: {}, want: "400 invalid_json" },
    { name: "a form post", body: `token=${TOKEN}`, headers: { "content-type": "application/x-www-form-urlencoded" }, want: "415 unsupported_media_type" },
    { name: "text/plain", body: { token: TOKEN }, headers: { "content-type": "text/plain" }, want: "415 unsupported_media_type" },
  ])("$name → $want, no cookie", async ({ body, headers, want }) => {
    const { login } = await load();
    const res = await login(post("/api/auth/login", body, headers), ctx);
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(await code(res)).toBe(want);
  });

  it("takes 4 KiB of body and answers 413 at 4 KiB + 1", async () => {
    const { login, LOGIN_MAX_BYTES } = await load();
    expect(LOGIN_MAX_BYTES).toBe(4096);
    const sized = (n: number) => {
      const base = JSON.stringify({ token: TOKEN, next: "/" });
      return `${base.slice(0, -1)}${" ".repeat(n - base.length)}}`;
    };
    expect(sized(4096)).toHaveLength(4096);
    expect(await code(await login(post("/api/auth/login", sized(4096)), ctx))).toBe("200 ok");
    const res = await login(post("/api/auth/login", sized(4097)), ctx);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/4 KiB.*\/api\/auth\/login/);
  });

  it("a wrong token gets 401 invalid_token with a www-authenticate header", async () => {
    const { login } = await load();
    const res = await login(post("/api/auth/login", { token: "nope" }), ctx);
    expect(res.headers.get("www-authenticate")).toBe("Bearer");
  });

  it("no token configured: 200 {next} and no cookie", async () => {
    const { login } = await load({ CONSOLE_TOKEN: undefined });
    const res = await login(post("/api/auth/login", { token: "anything", next: "/lag" }), ctx);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ next: "/lag" });
    expect(res.headers.get("set-cookie")).toBeNull();
  });

  it("audit lines for success and failure name the client, never the token", async () => {
    const { login } = await load();
    await login(post("/api/auth/login", { token: "wrong-guess-123" }, { "x-forwarded-for": "192.0.2.7" }), ctx);
    await login(post("/api/auth/login", { token: TOKEN }, { "x-forwarded-for": "192.0.2.7" }), ctx);
    const audit = await auditLines(2);
    expect(audit.map((l) => [l.audit, l.client])).toEqual([["login_failed", "192.0.2.7"], ["login", "192.0.2.7"]]);
    expect(logged.join("")).not.toContain(TOKEN);
    expect(logged.join("")).not.toContain("wrong-guess-123");
  });
});

describe("login rate limits", () => {
  const from = (ip: string, token: string) => post("/api/auth/login", { token }, { "x-forwarded-for": ip });

  it("5 free failures, then 1 s, 2 s, 4 s… with Retry-After; other clients unaffected; a success resets", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const { login } = await load();
    const ip = "198.51.100.1";
    for (let i = 0; i < 6; i++) expect(await code(await login(from(ip, "bad"), ctx)), `failure ${i + 1}`).toBe("401 invalid_token");
    for (const wait of [1, 2, 4, 8]) {
      const refused = await login(from(ip, TOKEN), ctx); // even the right token waits
      expect(await code(refused)).toBe("429 rate_limited");
      expect(refused.headers.get("retry-after")).toBe(String(wait));
      expect(await code(await login(from("198.51.100.2", "bad"), ctx))).toBe("401 invalid_token");
      vi.setSystemTime(Date.now() + wait * 1000);
      expect(await code(await login(from(ip, "bad"), ctx))).toBe("401 invalid_token");
    }
    vi.setSystemTime(Date.now() + 16_000);
    expect(await code(await login(from(ip, TOKEN), ctx))).toBe("200 ok");
    for (let i = 0; i < 6; i++) expect(await code(await login(from(ip, "bad"), ctx)), `after reset ${i + 1}`).toBe("401 invalid_token");
    expect(await code(await login(from(ip, "bad"), ctx))).toBe("429 rate_limited");
  });

  it("the wait stops growing at 5 minutes", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const { login } = await load();
    const ip = "198.51.100.3";
    const waits: string[] = [];
    for (let i = 0; i < 34; i++) {
      const res = await login(from(ip, "bad"), ctx);
      if (res.status === 429) {
        waits.push(res.headers.get("retry-after")!);
        vi.setSystemTime(Date.now() + Number(waits.at(-1)) * 1000);
      }
    }
    expect(waits).toEqual(["1", "2", "4", "8", "16", "32", "64", "128", "256", "300", "300", "300", "300", "300"]);
  });

  it("a global budget stops a client that names itself anew (X-Forwarded-For) for every guess", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const { login } = await load();
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await login(from(`203.0.113.${i}`, "bad"), ctx)).status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(30);
    expect(statuses.slice(30)).toEqual(Array(10).fill(429));
    const refused = await login(from("203.0.113.250", TOKEN), ctx);
    expect(await code(refused)).toBe("429 rate_limited");
    expect(refused.headers.get("retry-after")).toBe("2");
    // The budget refills: one guess every 2 s.
    vi.setSystemTime(Date.now() + 2000);
    expect(await code(await login(from("203.0.113.251", TOKEN), ctx))).toBe("200 ok");
  });

  it("a refused attempt is logged as such, without the token", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const { login } = await load();
    for (let i = 0; i < 7; i++) await login(from("198.51.100.9", "bad-guess"), ctx);
    expect((await auditLines(7)).map((l) => l.audit)).toContain("login_rate_limited");
    expect(logged.join("")).not.toContain("bad-guess");
  });
});

describe("POST /api/auth/logout", () => {
  it("revokes the session on the server (also after a restart) and clears the cookie", async () => {
    const { login, logout, proxy, session, cfg, requireToken } = await load();
    const value = sessionValue(cookieOf(await login(post("/api/auth/login", { token: TOKEN }), ctx)));
    expect(proxyPasses(proxy, value)).toBe(true);
    const res = await logout(post("/api/auth/logout", {}, { cookie: `embedline_session=${value}` }), ctx);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ next: "/login" });
    expect(cookieOf(res)).toBe("embedline_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    // The browser would drop the cookie; someone who copied it still cannot use it.
    expect(proxyPasses(proxy, value)).toBe(false);
    expect(() => requireToken(new Request("http://localhost:3000/api/ingest", { headers: { cookie: `embedline_session=${value}` } }))).toThrow();
    const claims = session.readSession(value, TOKEN, TTL)!;
    expect(new session.RevocationStore(cfg.access.stateDir).isRevoked(claims.sid)).toBe(true);
    // A new process: a fresh module graph and an empty in-memory store, the same DATA_DIR.
    delete (globalThis as Record<symbol, unknown>)[Symbol.for("embedline.console.revocations")];
    process.env.DATA_DIR = path.dirname(cfg.access.stateDir);
    vi.resetModules();
    const restarted = await import("@/proxy");
    expect(proxyPasses(restarted.proxy, value)).toBe(false);
    expect((await auditLines(2)).map((l) => l.audit)).toEqual(["login", "logout"]);
  });

  it("leaves other sessions alone", async () => {
    const { login, logout, proxy } = await load();
    const a = sessionValue(cookieOf(await login(post("/api/auth/login", { token: TOKEN }), ctx)));
    const b = sessionValue(cookieOf(await login(post("/api/auth/login", { token: TOKEN }), ctx)));
    await logout(post("/api/auth/logout", {}, { cookie: `embedline_session=${a}` }), ctx);
    expect(proxyPasses(proxy, a)).toBe(false);
    expect(proxyPasses(proxy, b)).toBe(true);
  });

  it.each([
    { name: "no cookie", body: {}, headers: {}, want: "200 ok" },
    { name: "a forged cookie", body: {}, headers: { cookie: "embedline_session=v1.forged" }, want: "200 ok" },
    { name: "text/plain", body: "{}", headers: { "content-type": "text/plain" }, want: "415 unsupported_media_type" },
    { name: "over 1 KiB", body: { pad: "x".repeat(1100) }, headers: {}, want: "413 body_too_large" },
  ])("$name → $want", async ({ body, headers, want }) => {
    const { logout } = await load();
    expect(await code(await logout(post("/api/auth/logout", body, headers), ctx))).toBe(want);
  });
});

describe("safeNext: no open redirect after login", () => {
  it.each([
    ["/dlq", "/dlq"],
    ["/search?doc_id=a", "/search?doc_id=a"],
    ["//evil.example", "/"],
    ["https://evil.example", "/"],
    ["/\\evil", "/"],
    ["/login", "/"],
    ["/login?next=/dlq", "/"],
    ["javascript:alert(1)", "/"],
    ["/a b", "/"],
    ["", "/"],
    [null, "/"],
  ])("next=%j → %j", (next, want) => expect(safeNext(next)).toBe(want));
});

describe("clientAddress: the key of per-client limits", () => {
  it.each([
    { xff: undefined, trust: false, want: "unknown" },
    { xff: "127.0.0.1", trust: false, want: "127.0.0.1" },
    { xff: "::ffff:192.0.2.1", trust: false, want: "192.0.2.1" },
    { xff: "::1", trust: false, want: "::1" },
    { xff: "[2001:DB8::1]:51234", trust: true, want: "2001:db8::1" },
    { xff: "192.0.2.1:51234", trust: true, want: "192.0.2.1" },
    // A proxy appends the peer it saw: the rightmost entry is the one the client did not write.
    { xff: "10.9.9.9, 198.51.100.4", trust: true, want: "198.51.100.4" },
    { xff: "spoofed, 198.51.100.4", trust: false, want: "198.51.100.4" },
    { xff: " , ", trust: true, want: "unknown" },
    { xff: "x".repeat(500), trust: false, want: "x".repeat(64) },
  ])("x-forwarded-for $xff (trust proxy: $trust) → $want", async ({ xff, trust, want }) => {
    const { clientAddress } = await import("@/lib/auth/client-address");
    expect(clientAddress(new Headers(xff === undefined ? {} : { "x-forwarded-for": xff }), trust)).toBe(want);
  });
});
