import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { ApiError } from "../../lib/http/api-error";

/**
 * Bearer auth when INFERMESH_API_KEY is set. Compared in constant time over
 * digests (equal lengths whatever was sent); the header is never logged.
 */
export function bearerAuth(apiKey: string | undefined): (req: IncomingMessage) => void {
  if (!apiKey) return () => undefined;
  const want = createHash("sha256").update(apiKey).digest();
  return (req) => {
    const header = req.headers.authorization ?? "";
    const m = /^Bearer\s+(.+)$/i.exec(header);
    const got = createHash("sha256").update(m?.[1]?.trim() ?? "").digest();
    if (!m || !timingSafeEqual(want, got)) {
      throw new ApiError(401, "unauthorized", "missing or wrong bearer token", { "www-authenticate": 'Bearer realm="infermesh"' });
    }
  };
}
