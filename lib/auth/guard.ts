import "server-only";
import { consoleConfig } from "@/lib/config/console";
import { ApiError } from "@/lib/http/api-error";
import { authorize, type AuthKind } from "./token";

/**
 * Mutation routes (download, redrive, pause/resume, ingest) call this first: with
 * CONSOLE_TOKEN set they always need it, whatever the proxy in front decided.
 */
export function requireToken(request: Request): AuthKind {
  const kind = authorize(request.headers, consoleConfig().consoleToken);
  if (!kind) throw new ApiError(401, "unauthorized", "log in or send Authorization: Bearer <CONSOLE_TOKEN>", { "www-authenticate": "Bearer" });
  return kind;
}
