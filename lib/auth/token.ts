import type { ConsoleConfig } from "@/lib/config/console";
import { tokenMatches } from "@/lib/http/bearer";
import { SESSION_COOKIE, verifySession } from "./session";

export { SESSION_COOKIE } from "./session";
export { safeNext } from "./safe-next";

export type AuthKind = "open" | "bearer" | "session";

/** What authorisation reads from the configuration. */
export type AuthConfig = Pick<ConsoleConfig, "consoleToken" | "access">;

/** Values of every cookie called `name` (a browser may send two, e.g. one set for a parent domain). */
export function cookieValues(header: string | null, name: string): string[] {
  const values: string[] = [];
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) values.push(part.slice(eq + 1).trim());
  }
  return values;
}

/** At most this many cookies of our name are checked per request (each costs an HMAC). */
const MAX_SESSION_COOKIES = 4;

/**
 * How a request is authorised: "open" when no CONSOLE_TOKEN is configured,
 * "bearer" for `Authorization: Bearer <token>`, "session" for a valid, unexpired
 * and not revoked session cookie; null when none of these holds.
 */
export function authorize(headers: Headers, cfg: AuthConfig, nowMs = Date.now()): AuthKind | null {
  const token = cfg.consoleToken;
  if (!token) return "open";
  const bearer = /^Bearer\s+(.+)$/i.exec(headers.get("authorization") ?? "")?.[1]?.trim();
  if (bearer !== undefined && tokenMatches(bearer, token)) return "bearer";
  for (const value of cookieValues(headers.get("cookie"), SESSION_COOKIE).slice(0, MAX_SESSION_COOKIES)) {
    if (verifySession(value, cfg, nowMs)) return "session";
  }
  return null;
}
