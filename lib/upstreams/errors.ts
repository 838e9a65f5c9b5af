import "server-only";
import { ApiError } from "@/lib/http/api-error";
import { isErrorCode } from "@/lib/http/error-codes";
import { UpstreamError } from "./http";

/**
 * An upstream failure as the console's API answers it: unreachable → 502 naming
 * the service; the upstream's own 4xx passed on with its message (it is about
 * the caller's input); its 5xx → 502 without internals.
 */
export function toApiError(err: unknown, service: string): unknown {
  // kafkajs errors (KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded…): the broker is down or refusing.
  const name = (err as { name?: unknown } | null)?.name;
  if (typeof name === "string" && name.startsWith("KafkaJS")) return new ApiError("upstream_unreachable", "Kafka is unreachable (not running?)");
  if (!(err instanceof UpstreamError)) return err;
  if (err.kind === "unreachable") return new ApiError("upstream_unreachable", `${service} is unreachable (not running?)`);
  const status = err.status ?? 502;
  if (status >= 400 && status < 500) {
    const e = (err.body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    const message = typeof e?.message === "string" ? e.message : `${service} answered ${status}`;
    // A 429 (the indexer's exact-scan bound) keeps its Retry-After, so the client knows when to try again.
    const headers: Record<string, string> = status === 429 && err.retryAfter !== undefined ? { "retry-after": err.retryAfter } : {};
    // Our services answer codes of the same table, so a known code keeps its status; an unknown one (a version skew) keeps the upstream's.
    const code = e?.code;
    return isErrorCode(code) ? new ApiError(code, message, headers) : ApiError.received(status, "upstream_rejected", message, headers);
  }
  return new ApiError("upstream_failed", `${service} failed (HTTP ${status})`);
}

export async function proxied<T>(service: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toApiError(err, service);
  }
}

/**
 * For the console's own pages: with `?unavailable=200`, an absent upstream
 * (a 502 from `toApiError`) answers 200 `{unavailable: {code, message}}`, so a
 * page that loads while a service is down shows it plainly without a failed
 * request in the browser console. Tools get the honest 502 by default.
 */
export async function softUnavailable(request: Request, fn: () => Promise<Response>): Promise<Response> {
  try {
    return await fn();
  } catch (err) {
    const soft = new URL(request.url).searchParams.get("unavailable") === "200";
    if (soft && err instanceof ApiError && err.status === 502) {
      return Response.json({ unavailable: { code: err.code, message: err.message } }, { headers: { "cache-control": "no-store" } });
    }
    throw err;
  }
}
