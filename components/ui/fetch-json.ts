import { followLoginRequired } from "@/lib/auth/login-redirect";
import { apiErrorFromResponse } from "@/lib/http/api-error";

/**
 * GET JSON from the console's API; a non-2xx becomes an ApiError (so 4xx are
 * not retried). A 401 from the console's gate (session expired or logged out
 * elsewhere) also sends the browser to the login form, which brings it back.
 */
export async function getJson<T>(url: string, signal?: AbortSignal): Promise<T> {
  const res = followLoginRequired(await fetch(url, { signal, headers: { accept: "application/json" } }));
  if (!res.ok) throw await apiErrorFromResponse(res);
  return (await res.json()) as T;
}

/** POST JSON; a body-less action (pause, resume) sends `{}`, since every console POST takes JSON only. */
export async function postJson<T>(url: string, body: unknown = {}, signal?: AbortSignal): Promise<T> {
  const res = followLoginRequired(
    await fetch(url, { method: "POST", signal, headers: { "content-type": "application/json", accept: "application/json" }, body: JSON.stringify(body ?? {}) }),
  );
  if (!res.ok) throw await apiErrorFromResponse(res);
  return (await res.json()) as T;
}
