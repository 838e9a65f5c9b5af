/**
 * Where to go after logging in: only a same-site path (`/dlq`, `/search?doc_id=a`),
 * never `//host`, `/\host` or `https://…` (no open redirect), never back to /login.
 * No runtime imports: used by the login form in the browser too.
 */
export function safeNext(next: string | null | undefined): string {
  return next && /^\/(?![/\\])[^\s]*$/.test(next) && !next.startsWith("/login") ? next : "/";
}
