/**
 * Browser side: when the console says the session is gone, go to the login form
 * and come back here afterwards. No runtime imports: safe in client code.
 */

/**
 * A 401 from the console's own gate: it always carries `www-authenticate`. An
 * upstream's 401 passed on by a route (e.g. the embed-worker refusing
 * EMBED_CONTROL_TOKEN) does not, and logging in again would not fix it.
 */
export function isLoginRequired(res: Response): boolean {
  return res.status === 401 && res.headers.has("www-authenticate");
}

let leaving = false;

/** Navigate to `/login?next=<this page>` (once, however many requests noticed). */
export function sendToLogin(): void {
  if (typeof window === "undefined" || leaving) return;
  const { pathname, search } = window.location;
  if (pathname === "/login") return;
  leaving = true;
  // A full page load on purpose: the app's state belongs to the ended session.
  // eslint-disable-next-line @next/next/no-location-assign-relative-destination
  window.location.assign(`/login?next=${encodeURIComponent(`${pathname}${search}`)}`);
}

/** `sendToLogin()` when `res` says the session is gone; returns `res` for chaining. */
export function followLoginRequired(res: Response): Response {
  if (isLoginRequired(res)) sendToLogin();
  return res;
}
