import "server-only";
import type { ConsoleConfig } from "@/lib/config/console";
import { ApiError, isJsonContentType } from "@/lib/http/api-error";
import { authorize } from "./token";

/**
 * The console's front door, run by proxy.ts for every request but Next's
 * static assets. In order:
 * 0. GET /api/live passes: it answers `{"status":"ok"}` and nothing else.
 * 1. Host allow-list (CONSOLE_ALLOWED_HOSTS) → 421: a DNS-rebinding page reaches
 *    us under its own name, which is not on the list.
 * 2. A path with invalid percent-encoding → 400 (Next would fail decoding it
 *    with a bare 500). Public paths (login form and API, logout, liveness) skip
 *    step 4 only.
 * 3. Mutating methods (all but GET, HEAD, OPTIONS): a cross-site request → 403,
 *    then a Content-Type other than application/json → 415. Together these stop
 *    a page on another site posting to us: it can only send JSON after a CORS
 *    preflight, which we never answer.
 * 4. With CONSOLE_TOKEN set: a bearer token or a valid session cookie, else
 *    401 (API) or a redirect to the login form (pages).
 * Returns null when the request may go on. Route handlers check the token again
 * (lib/auth/guard.ts) in case a matcher change ever lets a request past this.
 */
export type GateConfig = Pick<ConsoleConfig, "consoleToken" | "access">;

export const LIVENESS_PATH = "/api/live";
export const PUBLIC_PATHS: ReadonlySet<string> = new Set(["/login", "/api/auth/login", "/api/auth/logout", LIVENESS_PATH]);

export function isMutating(method: string): boolean {
  return !["GET", "HEAD", "OPTIONS"].includes(method.toUpperCase());
}

export function gateRequest(request: Request, cfg: GateConfig): Response | null {
  const url = new URL(request.url);
  const { headers } = request;
  // Liveness says only "ok": probes (the launcher, Docker's HEALTHCHECK) call it
  // by 127.0.0.1 whatever names CONSOLE_ALLOWED_HOSTS lists.
  if (url.pathname === LIVENESS_PATH && !isMutating(request.method)) return null;
  const hostHeader = requestHost(headers, cfg.access.trustProxy);
  const host = hostHeader === null ? null : parseHost(hostHeader);
  if (!hostAllowed(host, cfg.access.allowedHosts)) {
    const what = hostHeader === null ? "a request without a Host header" : `Host ${JSON.stringify(hostHeader.slice(0, 100))}`;
    return refuse(new ApiError("misdirected_host", `this console does not answer to ${what}; add the name to CONSOLE_ALLOWED_HOSTS if it is yours`));
  }
  // Next decodes dynamic segments (/api/topics/{name}) before any handler runs and answers a bad escape with a bare 500.
  if (!decodable(url.pathname)) return refuse(new ApiError("invalid_path", "the path has invalid percent-encoding (a % not followed by two hex digits, or bytes that are not UTF-8)"));
  if (isMutating(request.method)) {
    if (isCrossSite(headers, host)) {
      return refuse(new ApiError("cross_site", `a ${request.method} from another site is refused: the console's own pages (or tools sending no Origin) only`));
    }
    if (!isJsonContentType(headers.get("content-type"))) {
      return refuse(new ApiError("unsupported_media_type", `${request.method} ${url.pathname} takes JSON only: send Content-Type: application/json`));
    }
  }
  if (!cfg.consoleToken || PUBLIC_PATHS.has(url.pathname) || authorize(headers, cfg)) return null;
  if (url.pathname === "/api" || url.pathname.startsWith("/api/")) {
    return refuse(new ApiError("unauthorized", "log in or send Authorization: Bearer <CONSOLE_TOKEN>", { "www-authenticate": "Bearer" }));
  }
  return loginRedirect(url, request.method);
}

/** `/login?next=<path and query>`: 307 for GET/HEAD (the browser repeats the GET), 303 otherwise. */
function loginRedirect(url: URL, method: string): Response {
  const search = new URLSearchParams(url.search);
  search.delete("_rsc"); // Next's client-navigation marker, not part of the page's address
  const query = search.toString();
  const login = new URL("/login", url);
  login.searchParams.set("next", `${url.pathname}${query ? `?${query}` : ""}`);
  // Absolute here; Next's proxy adapter makes a same-host Location relative again.
  const status = ["GET", "HEAD"].includes(method.toUpperCase()) ? 307 : 303;
  return new Response(null, { status, headers: { location: login.toString(), "cache-control": "no-store" } });
}

function decodable(pathname: string): boolean {
  try {
    decodeURIComponent(pathname);
    return true;
  } catch {
    return false;
  }
}

function refuse(error: ApiError): Response {
  return error.toResponse();
}

/** The Host the client asked for: with a trusted proxy its X-Forwarded-Host (rightmost: the one our proxy set), else Host. */
export function requestHost(headers: Headers, trustProxy: boolean): string | null {
  const forwarded = trustProxy ? headers.get("x-forwarded-host")?.split(",").map((s) => s.trim()).filter(Boolean).at(-1) : undefined;
  const host = forwarded ?? headers.get("host")?.trim();
  return host ? host : null;
}

export interface HostName {
  /** Lower case; an IPv6 literal keeps its brackets (`[::1]`). */
  name: string;
  port?: number;
}

/** `name`, `name:port`, `[v6]` or `[v6]:port`; null for anything else (a bare IPv6, userinfo, a path). */
export function parseHost(value: string): HostName | null {
  const m = /^(\[[0-9a-f:.]+\]|[^[\]:\s/@\\?#]+)(?::(\d{1,5}))?$/.exec(value.trim().toLowerCase());
  if (!m) return null;
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && port > 65535) return null;
  return port === undefined ? { name: m[1]! } : { name: m[1]!, port };
}

/** An entry `name` allows any port, `name:port` that port only, `*` anything (the check is off). */
export function hostAllowed(host: HostName | null, allowed: readonly string[]): boolean {
  if (allowed.includes("*")) return true;
  if (!host) return false;
  return allowed.some((entry) => {
    const e = parseHost(entry);
    return e !== null && e.name === host.name && (e.port === undefined || e.port === host.port);
  });
}

/**
 * A mutating request from another site: `Sec-Fetch-Site` other than
 * `same-origin` or `none` (typed by the user), or an `Origin` whose host and
 * port differ from the Host asked for (`Origin: null`, sent by sandboxed frames
 * and some redirects, counts as another site). Neither header (curl, scripts): not
 * a browser page, so not cross-site.
 */
export function isCrossSite(headers: Headers, host: HostName | null): boolean {
  const site = headers.get("sec-fetch-site")?.trim().toLowerCase();
  if (site !== undefined && site !== "same-origin" && site !== "none") return true;
  const origin = headers.get("origin");
  if (origin === null) return false;
  let o: URL;
  try {
    o = new URL(origin.trim());
  } catch {
    return true; // "null" or garbage
  }
  if (!host || (o.protocol !== "http:" && o.protocol !== "https:")) return true;
  const defaultPort = o.protocol === "https:" ? 443 : 80;
  const originPort = o.port ? Number(o.port) : defaultPort;
  return o.hostname.toLowerCase() !== host.name || originPort !== (host.port ?? defaultPort);
}

/**
 * Whether the browser reached the console over TLS, for the cookie's `Secure`.
 * `next start` serves plain HTTP only, so TLS can only be a proxy's: its
 * X-Forwarded-Proto (rightmost) when the proxy is trusted. Not the request
 * URL's scheme: Next takes that from the client's own X-Forwarded-Proto.
 */
export function requestIsTls(request: Request, trustProxy: boolean): boolean {
  if (!trustProxy) return false;
  return request.headers.get("x-forwarded-proto")?.split(",").map((s) => s.trim().toLowerCase()).filter(Boolean).at(-1) === "https";
}
