import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { ApiError } from "./api-error";

/** Throws a 401 `ApiError` unless the request carries the configured bearer token. */
export type BearerCheck = (req: IncomingMessage) => void;

/**
 * The bearer check of every worker (embed-worker control routes, embedding
 * service, RedDB store). No token configured: everything passes. Otherwise the
 * SHA-256 digests of the sent and the expected token are compared in constant
 * time, so neither the token's content nor its length shows in the timing. The
 * header is never logged.
 */
export function bearerCheck(token: string | undefined, realm: string): BearerCheck {
  if (token === undefined || token === "") return () => undefined;
  return (req) => {
    const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "");
    // Always hash and compare, also when the header is missing, so that path takes the same time.
    const ok = tokenMatches(m?.[1]?.trim() ?? "", token);
    if (!m || !ok) throw new ApiError("unauthorized", "a valid bearer token is required", { "www-authenticate": `Bearer realm="${realm}"` });
  };
}

/**
 * Whether `given` is `token`, compared as SHA-256 digests in constant time:
 * neither the token's content nor its length shows in the timing. The one
 * comparison of every token Embedline checks (workers' bearer, the console's
 * bearer and login).
 */
export function tokenMatches(given: string, token: string): boolean {
  return timingSafeEqual(digest(given), digest(token));
}

function digest(s: string): Buffer {
  return createHash("sha256").update(s, "utf8").digest();
}
