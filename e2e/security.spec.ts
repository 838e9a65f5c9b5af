import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { CONTROL_MAX_BYTES } from "../app/api/embed-worker/[action]/schema";
import { REDRIVE_MAX_BYTES } from "../app/api/embed-worker/dlq/redrive/limits";
import { INGEST_MAX_BYTES } from "../app/api/ingest/limits";
import { KNN_QUERY_MAX_BYTES } from "../app/api/knn/query/schema";
import { LOGIN_MAX_BYTES, LOGOUT_MAX_BYTES } from "../app/api/auth/limits";
import { LOGIN_LIMITS } from "../lib/auth/login-limiter";
import { variables } from "../lib/config/variables";
import { apiError, call, openStream, setCookie, type Answer } from "./http-client";
import { openConsoleUrl, tokenConsole } from "./token-console";

/**
 * Issue 13's HTTP checks, table-driven over every API route and method of the
 * console and every page, against the two consoles the global setup runs on
 * one stack: the open one (no CONSOLE_TOKEN: Host allow-list, cross-site
 * refusal, JSON only, body caps, GETs that change nothing) and the token one
 * (401 without credentials, through with the bearer or the login cookie, pages
 * to the login form, wrong tokens, expired sessions, login cookie and rate
 * limit, logout).
 * Plain HTTP from node:http (any Host or Origin header, no cookie jar): no browser.
 */

const root = path.resolve(import.meta.dirname, "..");
const SESSION_COOKIE = "embedline_session";
/** A JSON body every mutating route's schema refuses (422) once the gate let it through: proves the gate's answer without side effects. */
const PROBE = JSON.stringify({ embedline_e2e_probe: true });

interface Route {
  /** The handler's file under app/api/. */
  file: string;
  method: "GET" | "POST";
  /** Path and query to call. */
  path: string;
  /** Skips the token (the login form's API, logout, liveness). */
  isPublic?: boolean;
  /** Most bytes of a POST body (the route's exported constant). */
  cap?: number;
  /** What the route answers a caller the gate let through: GETs their 200; POSTs the PROBE body's status. */
  through: number;
  /** The answer is an event stream. */
  sse?: boolean;
}

const stream = (name: string, query = "?once=1"): Route => ({ file: `${name}/stream/route.ts`, method: "GET", path: `/api/${name}/stream${query}`, through: 200, sse: true });

/** Every API route and method (app/api/**\/route.ts); the first test fails when a route file is added without a row here. */
const ROUTES: Route[] = [
  { file: "live/route.ts", method: "GET", path: "/api/live", isPublic: true, through: 200 },
  { file: "health/route.ts", method: "GET", path: "/api/health?degraded=200", through: 200 },
  { file: "auth/login/route.ts", method: "POST", path: "/api/auth/login", isPublic: true, cap: LOGIN_MAX_BYTES, through: 422 },
  { file: "auth/logout/route.ts", method: "POST", path: "/api/auth/logout", isPublic: true, cap: LOGOUT_MAX_BYTES, through: 200 },
  { file: "streams/route.ts", method: "GET", path: "/api/streams?names=lag,infermesh", through: 200, sse: true },
  { file: "history/route.ts", method: "GET", path: "/api/history?names=lag,infermesh&window=1h", through: 200 },
  stream("dlq"),
  stream("embed-worker"),
  stream("indexer"),
  stream("infermesh"),
  stream("lag"),
  stream("spark"),
  stream("vectorizer"),
  { file: "embed-worker/[action]/route.ts", method: "POST", path: "/api/embed-worker/pause", cap: CONTROL_MAX_BYTES, through: 422 },
  { file: "embed-worker/[action]/route.ts", method: "POST", path: "/api/embed-worker/resume", cap: CONTROL_MAX_BYTES, through: 422 },
  { file: "embed-worker/dlq/route.ts", method: "GET", path: "/api/embed-worker/dlq?limit=5", through: 200 },
  { file: "embed-worker/dlq/download/route.ts", method: "GET", path: "/api/embed-worker/dlq/download?format=jsonl&limit=5", through: 200 },
  { file: "embed-worker/dlq/redrive/route.ts", method: "POST", path: "/api/embed-worker/dlq/redrive", cap: REDRIVE_MAX_BYTES, through: 422 },
  { file: "ingest/route.ts", method: "POST", path: "/api/ingest", cap: INGEST_MAX_BYTES, through: 422 },
  { file: "knn/query/route.ts", method: "POST", path: "/api/knn/query", cap: KNN_QUERY_MAX_BYTES, through: 422 },
  { file: "knn/shards/route.ts", method: "GET", path: "/api/knn/shards", through: 200 },
  { file: "topics/route.ts", method: "GET", path: "/api/topics", through: 200 },
  { file: "topics/[name]/messages/route.ts", method: "GET", path: "/api/topics/embedding_input/messages?limit=1", through: 200 },
  { file: "topics/[name]/export/route.ts", method: "GET", path: "/api/topics/embedding_input/export?limit=1", through: 200 },
];
const MUTATING = ROUTES.filter((r) => r.method !== "GET");
const PROTECTED = ROUTES.filter((r) => !r.isPublic);

/** Every page (app/**\/page.tsx); the login form is the one open to all. */
const PAGES = ["/", "/dlq", "/health", "/ingest", "/lag", "/monitoring", "/search", "/shards", "/topics", "/topics/[name]"];
const LOGIN_PAGE = "/login";

const label = (r: Route) => `${r.method} ${r.path.split("?")[0]}`;
const pathOnly = (r: Route) => r.path.split("?")[0]!;
const hostOf = (base: string) => new URL(base).host;
/**
 * A client address of its own (IPv6 documentation prefix, unique in this run)
 * for the login limiter: CONSOLE_TRUST_PROXY is off, so the console takes
 * X-Forwarded-For as the client sent it — which is why it also keeps a budget
 * for all clients together.
 */
const runPrefix = randomBytes(2).toString("hex");
let clients = 0;
const freshClient = () => `2001:db8:${runPrefix}::${(++clients).toString(16)}`;

/** Headers of a request the console's own page would send, plus `extra`. */
function sameOrigin(base: string, extra: Record<string, string> = {}): Record<string, string> {
  return { origin: base, "sec-fetch-site": "same-origin", ...extra };
}

/** A request to `route` that passes the gate's Host, cross-site and content-type checks; credentials in `extra`. */
function send(base: string, route: Route, extra: Record<string, string> = {}): Promise<Answer> {
  if (route.method === "GET") return call(base, { path: route.path, headers: extra });
  return call(base, { method: route.method, path: route.path, headers: sameOrigin(base, { "content-type": "application/json", ...extra }), body: PROBE });
}

/** A JSON body of exactly `bytes` bytes that no schema accepts. */
function bodyOf(bytes: number): string {
  const shell = JSON.stringify({ pad: "" });
  return JSON.stringify({ pad: "x".repeat(bytes - shell.length) });
}

function routeFiles(dir = path.join(root, "app", "api")): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => path.basename(f) === "route.ts")
    .map((f) => f.split(path.sep).join("/"))
    .sort();
}

test.describe("the route table", () => {
  test("covers every API route file and every method it exports", () => {
    const exported = Object.fromEntries(
      routeFiles().map((file) => {
        const source = readFileSync(path.join(root, "app", "api", file), "utf8");
        const methods = [...source.matchAll(/^export (?:const|async function|function) (GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS)\b/gm)].map((m) => m[1]!);
        return [file, [...new Set(methods)].sort()];
      }),
    );
    const tabled: Record<string, string[]> = {};
    for (const r of ROUTES) tabled[r.file] = [...new Set([...(tabled[r.file] ?? []), r.method])].sort();
    expect(tabled).toEqual(exported);
  });

  test("covers every page", () => {
    const pages = readdirSync(path.join(root, "app"), { recursive: true, encoding: "utf8" })
      .filter((f) => path.basename(f) === "page.tsx")
      .map((f) => `/${path.dirname(f).split(path.sep).join("/")}`.replace(/\/\.$/, "/"))
      .sort();
    expect(pages).toEqual([...PAGES, LOGIN_PAGE].sort());
  });
});

test.describe("the open console (no CONSOLE_TOKEN)", () => {
  const base = openConsoleUrl();

  // GET /api/live answers probes whatever the Host (it says only "ok"); the test at its row below checks that.
  for (const route of [...ROUTES.filter((r) => r.path !== "/api/live"), ...PAGES.map((p): Route => ({ file: "page", method: "GET", path: p, through: 200 }))]) {
    test(`${label(route)}: a foreign Host is 421, the console's own names pass`, async () => {
      const port = new URL(base).port;
      for (const host of ["evil.example", `evil.example:${port}`, `127.0.0.1.nip.io:${port}`, `localhost.evil.example:${port}`]) {
        const answer = await call(base, { method: route.method, path: route.path, headers: { host, ...(route.method === "GET" ? {} : sameOrigin(`http://${host}`, { "content-type": "application/json" })) }, body: route.method === "GET" ? undefined : PROBE });
        expect(answer.status, `Host ${host}`).toBe(421);
        expect(apiError(answer)).toMatchObject({ code: "misdirected_host", message: expect.stringContaining("CONSOLE_ALLOWED_HOSTS") });
      }
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
        const answer = route.method === "GET" ? await call(base, { path: route.path, headers: { host } }) : await call(base, { method: route.method, path: route.path, headers: { host, ...sameOrigin(`http://${host}`, { "content-type": "application/json" }) }, body: PROBE });
        expect(answer.status, `Host ${host}`).toBe(route.through);
      }
    });
  }

  for (const route of MUTATING) {
    test(`${label(route)}: a request from another site is 403`, async () => {
      const port = Number(new URL(base).port);
      const crossSite: Record<string, string>[] = [
        { "sec-fetch-site": "cross-site" },
        { "sec-fetch-site": "same-site" },
        { origin: "http://evil.example" },
        { origin: "null" },
        { origin: `http://127.0.0.1:${port + 1}` },
        // A same-origin Sec-Fetch-Site does not excuse a foreign Origin.
        { "sec-fetch-site": "same-origin", origin: "http://evil.example" },
      ];
      for (const headers of crossSite) {
        const answer = await call(base, { method: route.method, path: route.path, headers: { "content-type": "application/json", ...headers }, body: PROBE });
        expect(answer.status, JSON.stringify(headers)).toBe(403);
        expect(apiError(answer).code).toBe("cross_site");
      }
      // The console's own page, the address typed by hand, and tools sending neither header all pass. The
      // scheme is not compared: behind a TLS proxy the page's origin is https while the console serves http.
      for (const headers of [sameOrigin(base), { "sec-fetch-site": "none" }, {}, { origin: `https://${hostOf(base)}` }]) {
        const answer = await call(base, { method: route.method, path: route.path, headers: { "content-type": "application/json", ...headers }, body: PROBE });
        expect(answer.status, JSON.stringify(headers)).toBe(route.through);
      }
    });

    test(`${label(route)}: a body that is not JSON is 415`, async () => {
      const refused: (string | undefined)[] = [undefined, "text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx", "application/json-seq"];
      for (const type of refused) {
        const answer = await call(base, { method: route.method, path: route.path, headers: sameOrigin(base, type ? { "content-type": type } : {}), body: PROBE });
        expect(answer.status, `Content-Type ${type}`).toBe(415);
        expect(apiError(answer)).toMatchObject({ code: "unsupported_media_type", message: expect.stringContaining("send Content-Type: application/json") });
      }
      for (const type of ["application/json", "application/json; charset=utf-8", "Application/JSON"]) {
        const answer = await call(base, { method: route.method, path: route.path, headers: sameOrigin(base, { "content-type": type }), body: PROBE });
        expect(answer.status, `Content-Type ${type}`).toBe(route.through);
      }
    });

    test(`${label(route)}: a body over its cap is 413, naming the limit; at the cap it is read`, async () => {
      const cap = route.cap!;
      const over = await call(base, { method: route.method, path: route.path, headers: sameOrigin(base, { "content-type": "application/json" }), body: bodyOf(cap + 1) });
      expect(over.status).toBe(413);
      const kib = cap / 1024;
      const limit = kib >= 1024 ? `${kib / 1024} MiB` : `${kib} KiB`;
      expect(apiError(over)).toEqual({ code: "body_too_large", message: `request body is over the ${limit} limit of ${pathOnly(route)}`, type: "invalid_request_error" });
      const at = await call(base, { method: route.method, path: route.path, headers: sameOrigin(base, { "content-type": "application/json" }), body: bodyOf(cap) });
      expect(at.status).toBe(route.through);
    });

    test(`${label(route)}: a GET of it is refused and changes nothing`, async () => {
      for (const method of ["GET", "HEAD"]) {
        const answer = await call(base, { method, path: route.path });
        expect(answer.status, method).toBe(405);
      }
    });
  }

  test("GETs of pause leave the embed-worker running", async () => {
    const paused = async () => {
      const answer = await call(base, { path: "/api/embed-worker/stream?once=1", readStream: true });
      const data = /^data: (.*)$/m.exec(answer.body)?.[1];
      return (JSON.parse(data ?? "{}") as { metrics?: { paused?: boolean } }).metrics?.paused;
    };
    expect(await paused()).toBe(false);
    for (const method of ["GET", "HEAD"]) expect((await call(base, { method, path: "/api/embed-worker/pause" })).status).toBe(405);
    expect(await paused()).toBe(false);
  });

  test("live streams: one client address holds at most CONSOLE_SSE_MAX_PER_CLIENT; one more is 429 with Retry-After; a closed one frees its slot", async () => {
    const perClient = Number(variables.CONSOLE_SSE_MAX_PER_CLIENT.default);
    const client = { "x-forwarded-for": freshClient() };
    const held = [];
    try {
      for (let i = 0; i < perClient; i++) {
        const s = await openStream(base, "/api/streams?names=infermesh", client);
        held.push(s);
        expect(s.status, `stream ${i + 1}`).toBe(200);
      }
      const refused = await openStream(base, "/api/infermesh/stream", client);
      held.push(refused);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers["retry-after"])).toBeGreaterThanOrEqual(1);
      expect(JSON.parse(await refused.body).error.code).toBe("too_many_streams");
      // Another client is not counted against this one.
      const other = await openStream(base, "/api/infermesh/stream", { "x-forwarded-for": freshClient() });
      held.push(other);
      expect(other.status).toBe(200);
      held.shift()!.close();
      await expect.poll(async () => {
        const again = await openStream(base, "/api/infermesh/stream", client);
        held.push(again);
        return again.status;
      }, { timeout: 10_000 }).toBe(200);
    } finally {
      for (const s of held) s.close();
    }
  });

  test("/api/live answers anyone, under any Host, with {status: ok} and nothing more", async () => {
    for (const host of [undefined, "evil.example"]) {
      const answer = await call(base, { path: "/api/live", headers: host ? { host } : {} });
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toEqual({ status: "ok" });
    }
  });

  test("the login form is not shown when there is nothing to log in to", async () => {
    const answer = await call(base, { path: LOGIN_PAGE });
    expect(answer.status).toBe(307);
    expect(answer.headers.location).toBe("/");
  });
});

test.describe("the token console (CONSOLE_TOKEN set)", () => {
  // Known once the global setup has run: read when a test runs, not when the file is listed.
  const base = () => tokenConsole().url;
  const token = () => tokenConsole().token;

  /** Log in as a client of its own; the session cookie's value. */
  async function logIn(client = freshClient()): Promise<string> {
    const answer = await call(base(), { method: "POST", path: "/api/auth/login", headers: sameOrigin(base(), { "content-type": "application/json", "x-forwarded-for": client }), body: JSON.stringify({ token: token(), next: "/dlq" }) });
    expect(answer.status, answer.body).toBe(200);
    const cookie = setCookie(answer, SESSION_COOKIE);
    expect(cookie).toBeDefined();
    return cookie!.value;
  }

  let session: Promise<string> | undefined;
  const cookie = async () => `${SESSION_COOKIE}=${await (session ??= logIn())}`;

  for (const route of PROTECTED) {
    test(`${label(route)}: 401 without credentials or with wrong ones, through with the bearer or the login cookie`, async () => {
      const wrong: Record<string, string>[] = [
        {},
        { authorization: `Bearer ${token()}x` },
        { authorization: `Bearer ${token().slice(0, -1)}` },
        { authorization: "Bearer " },
        { authorization: `Basic ${Buffer.from(`admin:${token()}`).toString("base64")}` },
        { cookie: `${SESSION_COOKIE}=v1.forged.0.9999999999.AAAA` },
        { cookie: `${SESSION_COOKIE}=${token()}` },
      ];
      for (const headers of wrong) {
        const answer = await send(base(), route, headers);
        expect(answer.status, JSON.stringify(headers)).toBe(401);
        expect(answer.headers["www-authenticate"]).toBe("Bearer");
        expect(apiError(answer).code).toBe("unauthorized");
      }
      const credentials: Record<string, string>[] = [{ authorization: `Bearer ${token()}` }, { cookie: await cookie() }];
      for (const headers of credentials) {
        const answer = await send(base(), route, headers);
        expect(answer.status, Object.keys(headers)[0]).toBe(route.through);
        if (route.sse) expect(answer.headers["content-type"]).toContain("text/event-stream");
      }
    });
  }

  for (const page of PAGES) {
    test(`page ${page}: to the login form without credentials, served with the bearer or the cookie`, async () => {
      const anonymous = await call(base(), { path: `${page}?a=1` });
      expect(anonymous.status).toBe(307);
      const location = new URL(anonymous.headers.location!, base());
      expect([location.pathname, location.searchParams.get("next")]).toEqual([LOGIN_PAGE, `${page}?a=1`]);
      const credentials: Record<string, string>[] = [{ authorization: `Bearer ${token()}` }, { cookie: await cookie() }];
      for (const headers of credentials) {
        const answer = await call(base(), { path: page, headers });
        expect(answer.status).toBe(200);
        expect(answer.headers["content-type"]).toContain("text/html");
      }
    });
  }

  test("the public paths need nothing: liveness, the login form, logout", async () => {
    const live = await call(base(), { path: "/api/live" });
    expect([live.status, JSON.parse(live.body)]).toEqual([200, { status: "ok" }]);
    expect((await call(base(), { path: LOGIN_PAGE })).status).toBe(200);
    const logout = await call(base(), { method: "POST", path: "/api/auth/logout", headers: sameOrigin(base(), { "content-type": "application/json" }), body: "{}" });
    expect([logout.status, JSON.parse(logout.body)]).toEqual([200, { next: "/login" }]);
  });

  test("a session cookie past its expiry, or signed for another token, is refused; one minted the same way for now passes", async () => {
    // The console's own signer (server-only: e2e runs with --conditions=react-server, as npm test sets it).
    const { issueSession } = await import("../lib/auth/session");
    const ttl = Number(variables.CONSOLE_SESSION_TTL.default);
    const as = (value: string) => ({ cookie: `${SESSION_COOKIE}=${value}` });
    expect((await call(base(), { path: "/api/health?degraded=200", headers: as(issueSession(token(), ttl).value) })).status).toBe(200);
    const expired = issueSession(token(), ttl, Date.now() - (ttl + 60) * 1000).value;
    const foreign = issueSession(`${token()}-another-console`, ttl).value;
    for (const value of [expired, foreign]) {
      expect((await call(base(), { path: "/api/health?degraded=200", headers: as(value) })).status).toBe(401);
      const page = await call(base(), { path: "/search", headers: as(value) });
      expect([page.status, new URL(page.headers.location!, base()).pathname]).toEqual([307, LOGIN_PAGE]);
    }
  });

  test("a GET of logout is refused and the session goes on", async () => {
    const mine = `${SESSION_COOKIE}=${await logIn()}`;
    for (const method of ["GET", "HEAD"]) expect((await call(base(), { method, path: "/api/auth/logout", headers: { cookie: mine } })).status).toBe(405);
    expect((await call(base(), { path: "/api/health?degraded=200", headers: { cookie: mine } })).status).toBe(200);
  });

  test("a cross-site POST is refused even with a valid session cookie", async () => {
    const answer = await call(base(), { method: "POST", path: "/api/embed-worker/pause", headers: { cookie: await cookie(), "content-type": "application/json", "sec-fetch-site": "cross-site", origin: "http://evil.example" }, body: "{}" });
    expect(answer.status).toBe(403);
  });

  const login = (body: unknown, extra: Record<string, string> = {}) =>
    call(base(), { method: "POST", path: "/api/auth/login", headers: sameOrigin(base(), { "content-type": "application/json", "x-forwarded-for": freshClient(), ...extra }), body: JSON.stringify(body) });

  test("login: a wrong token is 401 invalid_token without a cookie; the right one sets an httpOnly, SameSite=Strict cookie and names a safe next page", async () => {
    const wrong = await login({ token: `${token()}x` });
    expect(wrong.status).toBe(401);
    expect(apiError(wrong).code).toBe("invalid_token");
    expect(setCookie(wrong, SESSION_COOKIE)).toBeUndefined();

    const right = await login({ token: token(), next: "https://evil.example/" });
    expect(right.status).toBe(200);
    expect(JSON.parse(right.body).next).toMatch(/^\/(?!\/)/);
    const set = setCookie(right, SESSION_COOKIE)!;
    expect(set.value.startsWith("v1.")).toBe(true);
    expect(set.value).not.toContain(token());
    const attributes = set.attributes.map((a) => a.toLowerCase());
    expect(attributes).toEqual(expect.arrayContaining(["path=/", "httponly", "samesite=strict", `max-age=${variables.CONSOLE_SESSION_TTL.default}`]));
    // Served over plain HTTP: not Secure, or the browser would never send it back.
    expect(attributes).not.toContain("secure");
  });

  test("login: a client's own X-Forwarded-Proto does not make the cookie Secure (CONSOLE_TRUST_PROXY is off)", async () => {
    // Next builds request.url's scheme from this header; the cookie's Secure must not follow it.
    const answer = await login({ token: token() }, { "x-forwarded-proto": "https" });
    expect(answer.status).toBe(200);
    expect(setCookie(answer, SESSION_COOKIE)!.attributes.map((a) => a.toLowerCase())).not.toContain("secure");
  });

  test("logout ends the session on the server: the old cookie is 401 afterwards, the bearer still works", async () => {
    const mine = `${SESSION_COOKIE}=${await logIn()}`;
    expect((await call(base(), { path: "/api/health?degraded=200", headers: { cookie: mine } })).status).toBe(200);
    const logout = await call(base(), { method: "POST", path: "/api/auth/logout", headers: sameOrigin(base(), { "content-type": "application/json", cookie: mine }), body: "{}" });
    expect(logout.status).toBe(200);
    expect(setCookie(logout, SESSION_COOKIE)?.attributes.map((a) => a.toLowerCase())).toContain("max-age=0");
    const after = await call(base(), { path: "/api/health?degraded=200", headers: { cookie: mine } });
    expect(after.status).toBe(401);
    expect((await call(base(), { path: "/dlq", headers: { cookie: mine } })).status).toBe(307);
    expect((await call(base(), { path: "/api/health?degraded=200", headers: { authorization: `Bearer ${token()}` } })).status).toBe(200);
    // Another session is not affected.
    expect((await call(base(), { path: "/api/health?degraded=200", headers: { cookie: await cookie() } })).status).toBe(200);
  });

  // Last in this file: they spend the login budget (other clients are unaffected by the first; the second waits for the budget to refill).
  test("login rate limit per client: past the free failures a client gets 429 with Retry-After, even with the right token; other clients can still log in", async () => {
    const client = freshClient();
    const attempt = (t: string, from = client) =>
      call(base(), { method: "POST", path: "/api/auth/login", headers: sameOrigin(base(), { "content-type": "application/json", "x-forwarded-for": from }), body: JSON.stringify({ token: t }) });
    // The free failures cost nothing; after them each failure blocks the client for a while (1 s, then doubling).
    let failures = 0;
    let limited: Answer | undefined;
    while (!limited && failures <= LOGIN_LIMITS.freeFailures + 3) {
      const answer = await attempt(`wrong-${failures}`);
      if (answer.status === 429) limited = answer;
      else {
        expect(answer.status).toBe(401);
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(LOGIN_LIMITS.freeFailures);
    expect(apiError(limited!).code).toBe("rate_limited");
    expect(Number(limited!.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    // Blocked is blocked: the right token is not even tried.
    const right = await attempt(token());
    expect(right.status).toBe(429);
    expect(setCookie(right, SESSION_COOKIE)).toBeUndefined();
    // Another client is not locked out by this one.
    expect((await attempt(token(), freshClient())).status).toBe(200);
  });

  test("login rate limit overall: a client naming itself anew for each guess still meets the console's failure budget, which refills", async () => {
    test.setTimeout(120_000);
    const attempt = (t: string) =>
      call(base(), { method: "POST", path: "/api/auth/login", headers: sameOrigin(base(), { "content-type": "application/json", "x-forwarded-for": freshClient() }), body: JSON.stringify({ token: t }) });
    // Each guess from an address with no failure of its own, so a 429 can only be the console-wide budget.
    // A few more guesses than the budget: it refills while they run.
    let limited: Answer | undefined;
    for (let i = 0; i <= LOGIN_LIMITS.globalBurst + 10 && !limited; i++) {
      const answer = await attempt(`guess-${i}`);
      if (answer.status === 429) limited = answer;
      else expect(answer.status).toBe(401);
    }
    expect(limited, `a 429 within ${LOGIN_LIMITS.globalBurst + 10} guesses from as many addresses`).toBeDefined();
    expect(apiError(limited!).code).toBe("rate_limited");
    const retryAfter = Number(limited!.headers["retry-after"]);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    // The budget refills: the right token works again (and the token project's login after this file is not locked out).
    await expect.poll(async () => (await attempt(token())).status, { timeout: 60_000, intervals: [retryAfter * 1000] }).toBe(200);
  });
});
