import "server-only";
import { consoleConfig } from "@/lib/config/console";
import { ApiError } from "@/lib/http/api-error";
import { authorize, type AuthKind } from "./token";

/**
 * Mutation and download routes call this first: with CONSOLE_TOKEN set they
 * always need a bearer token or a valid session cookie, whatever the proxy in
 * front decided (defence in depth should a matcher ever skip them).
 */
export function requireToken(request: Request): AuthKind {
  const kind = authorize(request.headers, consoleConfig());
  if (!kind) throw new ApiError("unauthorized", "log in or send Authorization: Bearer <CONSOLE_TOKEN>", { "www-authenticate": "Bearer" });
  return kind;
}
