import "server-only";
import { Pool, type Dispatcher } from "undici";
import { consoleConfig } from "@/lib/config/console";

/** One keep-alive pool per upstream origin. */
const KEY = Symbol.for("embedline.upstreams.pools");
function pools(): Map<string, Pool> {
  const g = globalThis as { [KEY]?: Map<string, Pool> };
  g[KEY] ??= new Map();
  return g[KEY];
}

function poolFor(origin: string): Pool {
  let pool = pools().get(origin);
  if (!pool) {
    // Polls are one request per interval; kNN proxying may overlap a few.
    pool = new Pool(origin, { connections: 8, keepAliveTimeout: 10_000 });
    pools().set(origin, pool);
  }
  return pool;
}

/** An upstream that could not be reached or answered with an error. */
export class UpstreamError extends Error {
  override name = "UpstreamError";
  constructor(
    readonly kind: "unreachable" | "http",
    message: string,
    readonly status?: number,
    readonly body?: unknown,
    /** The upstream's Retry-After (seconds or an HTTP date), passed on with its 429 or 503. */
    readonly retryAfter?: string,
  ) {
    super(message);
  }
}

const MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface UpstreamRequest {
  method?: Dispatcher.HttpMethod;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface UpstreamAnswer<T> {
  status: number;
  body: T;
  rttMs: number;
}

async function call(url: string, req: UpstreamRequest, accept: string): Promise<{ res: Dispatcher.ResponseData; rttMs: number }> {
  const { origin, pathname, search } = new URL(url);
  const timeout = AbortSignal.timeout(req.timeoutMs ?? consoleConfig().upstreamTimeoutMs);
  const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
  const started = performance.now();
  try {
    const res = await poolFor(origin).request({
      method: req.method ?? "GET",
      path: `${pathname}${search}`,
      headers: { accept, ...(req.body !== undefined ? { "content-type": "application/json" } : {}), ...req.headers },
      body: req.body !== undefined ? JSON.stringify(req.body) : undefined,
      signal,
    });
    return { res, rttMs: performance.now() - started };
  } catch (err) {
    const code = (err as { code?: string }).code ?? (err as Error).name;
    throw new UpstreamError("unreachable", `${origin} unreachable (${code})`);
  }
}

/** JSON from an upstream. Non-2xx answers throw `UpstreamError("http")` carrying the parsed body. */
export async function upstreamJson<T = unknown>(url: string, req: UpstreamRequest = {}): Promise<UpstreamAnswer<T>> {
  const { res, rttMs } = await call(url, req, "application/json");
  const text = await res.body.text();
  if (text.length > MAX_BODY_BYTES) throw new UpstreamError("http", "upstream answer too large", res.statusCode);
  let body: unknown = null;
  try {
    body = text === "" ? null : JSON.parse(text);
  } catch {
    body = null;
  }
  if (res.statusCode < 200 || res.statusCode > 299) {
    const retryAfter = res.headers["retry-after"];
    throw new UpstreamError("http", `HTTP ${res.statusCode}`, res.statusCode, body, typeof retryAfter === "string" ? retryAfter : undefined);
  }
  return { status: res.statusCode, body: body as T, rttMs };
}

/** Text (e.g. Prometheus exposition) from an upstream. */
export async function upstreamText(url: string, req: UpstreamRequest = {}): Promise<UpstreamAnswer<string>> {
  const { res, rttMs } = await call(url, req, "text/plain");
  const body = await res.body.text();
  if (res.statusCode < 200 || res.statusCode > 299) throw new UpstreamError("http", `HTTP ${res.statusCode}`, res.statusCode);
  return { status: res.statusCode, body, rttMs };
}
