import "server-only";
import { z } from "zod";
import { consoleConfig } from "@/lib/config/console";
import { parseSearchParams, withApiErrors } from "@/lib/http/api-error";
import { createLogger, type Logger } from "@/lib/log";
import { formatCursor, parseCursor } from "./cursor";
import { consoleStreamLimit, type StreamLimiter } from "./limits";
import { sseResponse } from "./response";
import type { Poller } from "./poller";
import { STREAM_NAMES, type StreamName } from "./streams";

const querySchema = z.object({
  names: z
    .string()
    .transform((v) => [...new Set(v.split(",").map((n) => n.trim()))])
    .pipe(z.array(z.enum(STREAM_NAMES as [StreamName, ...StreamName[]], { error: `expected names among ${STREAM_NAMES.join(",")}` })).min(1)),
  lastEventId: z.string().optional(),
});

const RETRY_MS = 3_000;

let log: Logger | undefined;
const streamLog = () => (log ??= createLogger("console", consoleConfig().logLevel).child({ component: "sse" }));

/**
 * GET /api/streams?names=a,b — several streams over one connection. A browser
 * holds at most six HTTP/1.1 connections per host: a page with one EventSource
 * per stream would leave none for navigation and fetches. Events keep their
 * stream's name; each carries the cursor of every stream as its id. Past a
 * connection cap: 429 `too_many_streams` with Retry-After (lib/sse/limits.ts).
 */
export function combinedStreamRoute(getPoller: (name: StreamName) => Poller<unknown>, options: { keepAliveMs?: number; limiter?: StreamLimiter } = {}) {
  return withApiErrors(streamLog, (request: Request) => {
  const query = parseSearchParams(request.url, querySchema);
  const cursor = parseCursor(request.headers.get("last-event-id") ?? query.lastEventId);
  return sseResponse(request, {
    keepAliveMs: options.keepAliveMs ?? consoleConfig().sse.keepAliveMs,
    retryMs: RETRY_MS,
    limit: consoleStreamLimit(request, options.limiter),
    start(sink) {
      const unsubscribe = query.names.map((name) => {
        const poller = getPoller(name);
        const send = (e: { id: number; event: string; data: string }) => {
          cursor.set(name, e.id);
          sink.send({ ...e, id: formatCursor(cursor) });
        };
        for (const e of poller.backlog(cursor.get(name))) send(e);
        return poller.subscribe(send);
      });
      return () => unsubscribe.forEach((u) => u());
    },
  });
  });
}
