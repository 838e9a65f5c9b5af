import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { z } from "zod";
import type { Logger } from "../log";
import { ApiError, describeZodError } from "./api-error";
import type { ErrorCode } from "./error-codes";
import type { BearerCheck } from "./bearer";
import { readJson, sendApiError, sendJson, sendText } from "./node-server";

/**
 * The HTTP kit of the workers (embed-worker, indexer, parse worker, embedding
 * service, RedDB store): a route table, path parameters, zod-parsed JSON bodies
 * and queries, body limits, the bearer check, and one error mapping to
 * `{error: {code, message, type}}`. Everything that parses request input — the
 * request target, percent-encoding, headers, the body — runs inside that
 * mapping: a malformed request is a 4xx, a handler that throws a 500 and one
 * log line, and no request can end the process.
 */

export type Reply =
  | { status?: number; headers?: Record<string, string>; json: unknown }
  | { status?: number; headers?: Record<string, string>; text: string; contentType: string };

export const json = (body: unknown, status = 200, headers?: Record<string, string>): Reply => ({ status, headers, json: body });
export const text = (body: string, contentType: string, status = 200): Reply => ({ status, text: body, contentType });

export interface RequestContext<B, Q> {
  req: IncomingMessage;
  res: ServerResponse;
  /** The request path, still percent-encoded. */
  path: string;
  /** `:name` segments of the route pattern, percent-decoded. */
  params: Record<string, string>;
  query: Q;
  body: B;
  /** Aborted when the client goes away before the answer. */
  signal: AbortSignal;
}

export interface RouteSpec<B, Q> {
  /** A JSON route: the body must be `application/json` (415 otherwise), at most `maxBodyBytes`, and pass this schema (422). */
  body?: z.ZodType<B>;
  /** Query parameters (single values) through this schema (422). */
  query?: z.ZodType<Q>;
  /** Needs the server's bearer token (when one is configured). */
  auth?: boolean;
  maxBodyBytes?: number;
  handle: (ctx: RequestContext<B, Q>) => Reply | Promise<Reply>;
}

/** A route of the table; `route()` keeps the handler's body and query types. */
export interface Route {
  spec: RouteSpec<unknown, unknown>;
}

export function route<B = undefined, Q = Record<string, string>>(spec: RouteSpec<B, Q>): Route {
  return { spec: spec as RouteSpec<unknown, unknown> };
}

/** What every answer reports, e.g. for request metrics. `route` is the matched pattern, undefined when none matched. */
export interface RequestOutcome {
  method: string;
  route: string | undefined;
  status: number;
  /** The error code when the answer is an error; `client_closed` when the client left first. */
  code?: ErrorCode;
  durationMs: number;
}

export interface WorkerServerOptions {
  /** "METHOD /path/:param" → route. HEAD is served by the GET route. */
  routes: Record<string, Route>;
  log: Logger;
  /** The check `auth: true` routes run; from `bearerCheck(token, realm)`. */
  bearer?: BearerCheck;
  /** Default body limit of JSON routes. */
  maxBodyBytes?: number;
  /** Runs first on every routed request (e.g. `connection: close` while stopping). */
  onRequest?: (req: IncomingMessage, res: ServerResponse) => void;
  onResponse?: (outcome: RequestOutcome) => void;
  /** Node's server limits; the defaults below suit every worker. */
  limits?: Partial<ServerLimits>;
}

export interface ServerLimits {
  maxHeaderSize: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** How often node checks the two timeouts above (its default, 30 s, would let a 15 s timeout run to 45 s). */
  timeoutCheckMs: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  // Node's default, stated: our clients send a few hundred bytes of headers; more is refused with 431.
  maxHeaderSize: 16 * 1024,
  // A client that has not finished its headers in 15 s is a slowloris, not a slow network.
  headersTimeoutMs: 15_000,
  // The largest body (RedDB's 8 MiB) takes well under a minute on any link we serve.
  requestTimeoutMs: 60_000,
  // Longer than the 60 s idle timeout of common load balancers and undici's pools, so they close first.
  keepAliveTimeoutMs: 65_000,
  timeoutCheckMs: 2_000,
};

/** Default body limit of a JSON route: a 4096-dim vector as JSON is under 100 KB. */
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

interface Compiled {
  method: string;
  pattern: string;
  segments: (string | { param: string })[];
  statics: number;
  route: Route;
}

function compile(routes: Record<string, Route>): Compiled[] {
  return Object.entries(routes)
    .map(([key, route]) => {
      const m = /^([A-Z]+) (\/\S*)$/.exec(key);
      if (!m) throw new Error(`route key must be "METHOD /path": ${key}`);
      const pattern = m[2] as string;
      const segments = pattern
        .split("/")
        .slice(1)
        .map((s) => (s.startsWith(":") ? { param: s.slice(1) } : s));
      return { method: m[1] as string, pattern, segments, statics: segments.filter((s) => typeof s === "string").length, route };
    })
    .sort((a, b) => b.statics - a.statics);
}

/** Split a request target into path and query without `new URL()` on untrusted text: `//x:99999/` is a path here, not an authority. */
export function splitTarget(target: string): { path: string; search: string } {
  if (target.startsWith("/")) {
    const end = target.search(/[?#]/);
    if (end === -1) return { path: target, search: "" };
    const hash = target.indexOf("#");
    return { path: target.slice(0, end), search: target[end] === "?" ? target.slice(end + 1, hash === -1 ? undefined : hash) : "" };
  }
  // Absolute form (proxies send it); anything else (authority form, "*") is not for us.
  if (/^https?:\/\//i.test(target)) {
    try {
      const url = new URL(target);
      return { path: url.pathname, search: url.search.slice(1) };
    } catch {
      // falls through to the 400
    }
  }
  throw new ApiError("invalid_target", "the request target is not a path");
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new ApiError("invalid_path", "the path has invalid percent-encoding");
  }
}

function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

function validate<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new ApiError("invalid_request", describeZodError(r.error));
  return r.data;
}

function isJsonContentType(header: string | undefined): boolean {
  const type = (header ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  return type === "application/json" || (type.startsWith("application/") && type.endsWith("+json"));
}

/**
 * A state-changing request a browser sent from another site. No browser talks
 * to a worker directly (the console proxies), so such a request is a forgery.
 */
function isCrossSite(req: IncomingMessage): boolean {
  const site = req.headers["sec-fetch-site"];
  if (site === "cross-site" || site === "same-site") return true;
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true;
  }
}

export function createWorkerServer(opts: WorkerServerOptions): Server {
  const compiled = compile(opts.routes);
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const { log } = opts;

  function match(method: string, path: string): { c: Compiled; params: Record<string, string> } {
    const parts = path.split("/").slice(1).map(decodeSegment);
    const candidates = compiled.filter((c) => c.segments.length === parts.length && c.segments.every((s, i) => (typeof s === "string" ? s === parts[i] : parts[i] !== "")));
    if (candidates.length === 0) throw new ApiError("not_found", `no route ${clip(path)}`);
    const wanted = method === "HEAD" ? "GET" : method;
    const c = candidates.find((x) => x.method === wanted);
    if (!c) {
      const allow = [...new Set(candidates.flatMap((x) => (x.method === "GET" ? ["GET", "HEAD"] : [x.method])))].join(", ");
      throw new ApiError("method_not_allowed", `${clip(method)} is not allowed on ${clip(path)}; use ${allow}`, { allow });
    }
    const params: Record<string, string> = {};
    c.segments.forEach((s, i) => {
      if (typeof s !== "string") params[s.param] = parts[i] as string;
    });
    return { c, params };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const method = req.method ?? "GET";
    const aborter = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) aborter.abort(new Error("client closed the connection"));
    });
    let pattern: string | undefined;
    const done = (status: number, code?: ErrorCode) => opts.onResponse?.({ method, route: pattern, status, code, durationMs: performance.now() - started });
    try {
      opts.onRequest?.(req, res);
      const { path, search } = splitTarget(req.url ?? "/");
      const { c, params } = match(method, path);
      pattern = c.pattern;
      const { spec } = c.route;
      if (spec.auth) opts.bearer?.(req);
      if (c.method !== "GET" && isCrossSite(req)) throw new ApiError("cross_site", "cross-site requests are refused");
      const rawQuery = Object.fromEntries(new URLSearchParams(search));
      const query = spec.query ? validate(spec.query, rawQuery) : rawQuery;
      let body: unknown;
      if (spec.body) {
        if (!isJsonContentType(req.headers["content-type"])) throw new ApiError("unsupported_media_type", "send the body as application/json");
        body = validate(spec.body, await readJson(req, spec.maxBodyBytes ?? opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES));
      }
      const reply = await spec.handle({ req, res, path, params, query, body, signal: aborter.signal });
      if ("json" in reply) sendJson(res, reply.status ?? 200, reply.json, reply.headers);
      else sendText(res, reply.status ?? 200, reply.text, reply.contentType, reply.headers);
      done(res.statusCode);
    } catch (err) {
      if (aborter.signal.aborted) return done(499, "client_closed");
      if (err instanceof ApiError) {
        if (res.headersSent) res.destroy();
        else sendApiError(res, err);
        return done(err.status, err.code);
      }
      // The stack is for the operator's log; the client gets no internals.
      log.error({ err: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err), method, route: pattern ?? null }, "request failed");
      if (res.headersSent) res.destroy();
      else sendApiError(res, new ApiError("internal", "internal error"));
      done(500, "internal");
    }
  }

  const server = createServer(
    {
      maxHeaderSize: limits.maxHeaderSize,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: limits.timeoutCheckMs,
    },
    (req, res) => {
      handle(req, res).catch((err: unknown) => {
        // Only a failing hook or a failed write gets here: drop the connection, keep the process.
        log.error({ err: err instanceof Error ? { name: err.name, message: err.message } : String(err) }, "request handling failed");
        res.destroy();
      });
    },
  );
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => answerClientError(err, socket, log));
  return server;
}

/**
 * A request node:http could not parse (garbage request line, headers over
 * maxHeaderSize, a timeout): there is no request object, so the answer is
 * written to the socket, which is then closed.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket, log: Logger): void {
  const pending = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === "ECONNRESET" || !socket.writable || pending?.headersSent) {
    socket.destroy();
    return;
  }
  const refusal =
    err.code === "HPE_HEADER_OVERFLOW"
      ? new ApiError("headers_too_large", "request headers are too large")
      : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? new ApiError("request_timeout", "the request took too long to arrive")
        : new ApiError("bad_request", "malformed HTTP request");
  const { status } = refusal;
  log.debug({ code: err.code, status }, "malformed request refused");
  const body = JSON.stringify(refusal.body);
  const head = [`HTTP/1.1 ${status} ${STATUS_CODES[status]}`, "content-type: application/json; charset=utf-8", `content-length: ${Buffer.byteLength(body)}`, "connection: close"];
  socket.end(`${head.join("\r\n")}\r\n\r\n${body}`, () => socket.destroy());
}
