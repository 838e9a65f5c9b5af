import type { z } from "zod";
import type { Logger } from "../log";
import { ERROR_STATUS, errorBody, isErrorCode, type ErrorBody, type ErrorCode } from "./error-codes";

/**
 * Errors of every Embedline HTTP answer, on both sides of the wire. Route
 * handlers and worker routes throw an `ApiError`; `withApiErrors` (console) and
 * the worker kit turn it into the one error body (`./error-codes.ts`) with the
 * code's status. The browser turns such a response back into an `ApiError`
 * (`apiErrorFromResponse`), so callers can tell a 4xx from a 5xx.
 * No runtime imports beyond the code table: safe in client code.
 */
export class ApiError extends Error {
  override name = "ApiError";
  /** The code's status (`ERROR_STATUS`), or the wire's for an answer passed on as it came (`received`). */
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra response headers, e.g. Retry-After on a 429. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.status = ERROR_STATUS[code];
  }

  /**
   * An error answered by someone else, with the status it came with: the
   * browser decoding a response, the console passing on an upstream's 4xx.
   * Only for decoding; code that refuses a request uses the constructor.
   */
  static received(status: number, code: ErrorCode, message: string, headers: Record<string, string> = {}): ApiError {
    const e = new ApiError(code, message, headers);
    (e as { status: number }).status = status;
    return e;
  }

  /** A client error: retrying the same request will fail the same way. */
  get isClientError(): boolean {
    return this.status >= 400 && this.status < 500;
  }

  get body(): ErrorBody {
    return errorBody(this.code, this.message, this.status);
  }

  toResponse(): Response {
    return Response.json(this.body, { status: this.status, headers: { "cache-control": "no-store", ...this.headers } });
  }
}

/** One readable line from a schema failure: the first issue, where it is, and how many more. */
export function describeZodError(error: z.ZodError): string {
  const [first, ...rest] = error.issues;
  if (!first) return "invalid request";
  const where = first.path.length > 0 ? `${first.path.join(".")}: ` : "";
  const more = rest.length > 0 ? ` (and ${rest.length} more ${rest.length === 1 ? "issue" : "issues"})` : "";
  return `${where}${first.message}${more}`;
}

function validate<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ApiError("invalid_request", describeZodError(result.error));
  return result.data;
}

/** 1 KiB, 64 KiB, 8 MiB: a byte count in the unit an operator reads (binary units, as the limits are set). */
export function formatBytes(bytes: number): string {
  const units: [number, string][] = [[1024 * 1024 * 1024, "GiB"], [1024 * 1024, "MiB"], [1024, "KiB"]];
  for (const [size, unit] of units) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(2))} ${unit}`;
  }
  return `${bytes} ${bytes === 1 ? "byte" : "bytes"}`;
}

/**
 * Whether a Content-Type header says JSON: the media type `application/json`
 * (any case), parameters such as `; charset=utf-8` allowed. `application/jsonx`,
 * `text/plain`, forms and a missing header are not: a cross-site page can send
 * those without a CORS preflight, so accepting them would let it post to us.
 */
export function isJsonContentType(value: string | null): boolean {
  if (value === null) return false;
  const mediaType = value.split(";", 1)[0]!.trim().toLowerCase();
  return mediaType === "application/json";
}

export interface BodyLimit {
  /**
   * Most bytes of body the route reads; past it the answer is 413. Required so no
   * route forgets one. Keep every cap below Next's `proxyClientMaxBodySize`
   * (10 MB by default): because proxy.ts exists, Next buffers each request body
   * for it (in memory) and hands the route handler only the first 10 MB of a
   * longer one, with a warning in the log. A cap above that would never be
   * reached: the route would parse a cut-off body and answer "not valid JSON"
   * instead of a 413 that names the limit. Below it, a cut-off body is still
   * over the cap and counted as such. Our largest cap is ingest's 8 MiB
   * (8,388,608 bytes < 10,485,760).
   */
  maxBytes: number;
  /** The route's path as operators type it, named in the 413 message. */
  route: string;
}

function tooLarge({ maxBytes, route }: BodyLimit): ApiError {
  return new ApiError("body_too_large", `request body is over the ${formatBytes(maxBytes)} limit of ${route}`);
}

/**
 * At most `maxBytes` of the body: a Content-Length above it is refused before a
 * byte is read; otherwise the stream is counted as it arrives and cancelled as
 * soon as it passes the cap (a chunked upload that lies by omission is not read
 * to its end).
 */
async function readCapped(request: Request, limit: BodyLimit): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared.trim()) > limit.maxBytes) throw tooLarge(limit);
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      // A body that breaks off (the client went away mid-upload) is the client's problem, not a 500.
      const { done, value } = await reader.read().catch(() => {
        throw new ApiError("bad_request", "request body could not be read to its end");
      });
      if (done) break;
      total += value.byteLength;
      if (total > limit.maxBytes) {
        // Not awaited: a peer that stops sending must not hold the answer back.
        reader.cancel().catch(() => {});
        throw tooLarge(limit);
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return bytes;
}

/**
 * Parse a JSON body through `schema`, in this order: Content-Type not JSON →
 * 415; more than `maxBytes` → 413; not UTF-8 or malformed JSON → 400; a schema
 * failure → 422.
 */
export async function parseJsonBody<S extends z.ZodType>(request: Request, schema: S, limit: BodyLimit): Promise<z.output<S>> {
  const type = request.headers.get("content-type");
  if (!isJsonContentType(type)) {
    const got = type === null ? "no Content-Type" : `Content-Type ${JSON.stringify(type.slice(0, 100))}`;
    throw new ApiError("unsupported_media_type", `${limit.route} takes JSON only (got ${got}): send Content-Type: application/json`);
  }
  const bytes = await readCapped(request, limit);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ApiError("invalid_json", "request body is not valid UTF-8");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiError("invalid_json", text.trim() === "" ? "request body is empty; expected JSON" : "request body is not valid JSON");
  }
  return validate(schema, value);
}

/** Parse query parameters (single values; a repeated key keeps its last value) through `schema`. */
export function parseSearchParams<S extends z.ZodType>(url: string | URL, schema: S): z.output<S> {
  return validate(schema, Object.fromEntries(new URL(url).searchParams));
}

type Handler<C> = (request: Request, context: C) => Response | Promise<Response>;

/**
 * Wrap a route handler: an `ApiError` becomes its response; anything else is a
 * generic 500 (no internal details) and one structured log line.
 */
export function withApiErrors<C>(log: () => Logger, handler: Handler<C>): (request: Request, context: C) => Promise<Response> {
  return async (request, context) => {
    try {
      return await handler(request, context);
    } catch (err) {
      if (err instanceof ApiError) return err.toResponse();
      log().error({ err, method: request.method, path: new URL(request.url).pathname }, "route handler failed");
      return new ApiError("internal", "internal error").toResponse();
    }
  };
}

/** Browser side: the `ApiError` a non-2xx response stands for (its body if it has our shape). */
export async function apiErrorFromResponse(res: Response): Promise<ApiError> {
  const fallback = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`;
  try {
    const body = (await res.json()) as { error?: { code?: unknown; message?: unknown } };
    const { code, message } = body.error ?? {};
    if (isErrorCode(code) && typeof message === "string") return ApiError.received(res.status, code, message);
  } catch {
    // Not JSON (a proxy's HTML error page, an empty body): fall back to the status line.
  }
  return ApiError.received(res.status, "http_error", fallback);
}
