import { createHmac, timingSafeEqual } from "node:crypto";

/** The httpOnly cookie the login form sets. It holds a MAC derived from the token, never the token. */
export const SESSION_COOKIE = "embedline_session";
/** A browser session lasts a working day; then the operator logs in again. */
export const SESSION_MAX_AGE_SEC = 12 * 60 * 60;

export type AuthKind = "open" | "bearer" | "session";

export function sessionValue(token: string): string {
  return createHmac("sha256", token).update("embedline-console-session-v1").digest("base64url");
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieValue(header: string | null, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return undefined;
}

/** How a request is authorised against `token` (undefined: the console is open), or null when it is not. */
export function authorize(headers: Headers, token: string | undefined): AuthKind | null {
  if (!token) return "open";
  const bearer = /^Bearer (.+)$/.exec(headers.get("authorization") ?? "")?.[1];
  if (bearer !== undefined && safeEqual(bearer, token)) return "bearer";
  const session = cookieValue(headers.get("cookie"), SESSION_COOKIE);
  if (session !== undefined && safeEqual(session, sessionValue(token))) return "session";
  return null;
}

/** Only same-site relative paths: `/dlq`, never `//host` or `https://…` (no open redirect). */
export function safeNext(next: string | null | undefined): string {
  return next && /^\/(?![/\\])[^\s]*$/.test(next) && !next.startsWith("/login") ? next : "/";
}
