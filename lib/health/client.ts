import { followLoginRequired } from "../auth/login-redirect";
import { ApiError, apiErrorFromResponse } from "../http/api-error";
import { healthResponseSchema, type HealthResponse } from "./schema";

/** A degraded report answers 200 here: the page reads the body, and a 503 per poll would flood the browser console. */
export const HEALTH_PATH = "/api/health?degraded=200";

/**
 * Browser fetch of `GET /api/health`. A 200 carries the report; a 503 with a
 * report (an older console, or `degraded=200` dropped by a proxy) is read too;
 * any other answer throws an `ApiError` (a 401 from the console's gate also
 * sends the browser to the login form).
 */
export async function fetchHealth(signal?: AbortSignal): Promise<HealthResponse> {
  const res = followLoginRequired(await fetch(HEALTH_PATH, { signal, cache: "no-store", headers: { accept: "application/json" } }));
  if (res.status !== 200 && res.status !== 503) throw await apiErrorFromResponse(res);
  const parsed = healthResponseSchema.safeParse(await res.json().catch(() => undefined));
  if (parsed.success) return parsed.data;
  // A 503 without our body comes from something in front of the console.
  if (res.status === 503) throw new ApiError("unavailable", "HTTP 503 Service Unavailable");
  throw new ApiError("bad_response", "the health endpoint answered with an unexpected shape");
}
