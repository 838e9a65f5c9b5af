import type { z } from "zod";
import type { Logger } from "../log";

/**
 * Errors of the console's API, on both sides of the wire. Route handlers throw an
 * `ApiError`; `withApiErrors` turns it into `{error: {code, message}}` with its
 * status. The browser turns such a response back into an `ApiError`
 * (`apiErrorFromResponse`), so callers can tell a 4xx from a 5xx.
 * No runtime imports: safe in client code.
 */
export interface ApiErrorBody {
  error: { code: string; message: string };
}

export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra response headers, e.g. Retry-After on a 429. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  /** A client error: retrying the same request will fail the same way. */
  get isClientError(): boolean {
    return this.status >= 400 && this.status < 500;
  }

  toResponse(): Response {
    const body: ApiErrorBody = { error: { code: this.code, message: this.message } };
    return Response.json(body, { status: this.status, headers: { "cache-control": "no-store", ...this.headers } });
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
  if (!result.success) throw new ApiError(422, "invalid_request", describeZodError(result.error));
  return result.data;
}

/** Parse a JSON body through `schema`: malformed JSON is a 400, a schema failure a 422. */
export async function parseJsonBody<S extends z.ZodType>(request: Request, schema: S): Promise<z.output<S>> {
  const text = await request.text();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiError(400, "invalid_json", text.trim() === "" ? "request body is empty; expected JSON" : "request body is not valid JSON");
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
      return new ApiError(500, "internal", "internal error").toResponse();
    }
  };
}

/** Browser side: the `ApiError` a non-2xx response stands for (its body if it has our shape). */
export async function apiErrorFromResponse(res: Response): Promise<ApiError> {
  const fallback = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`;
  try {
    const body = (await res.json()) as Partial<ApiErrorBody>;
    const { code, message } = body.error ?? {};
    if (typeof code === "string" && typeof message === "string") return new ApiError(res.status, code, message);
  } catch {
    // Not JSON (a proxy's HTML error page, an empty body): fall back to the status line.
  }
  return new ApiError(res.status, "http_error", fallback);
}
