import "server-only";
import { z } from "zod";
import { consoleConfig } from "@/lib/config/console";
import { parseSearchParams, withApiErrors } from "@/lib/http/api-error";
import { createLogger, type Logger } from "@/lib/log";
import { consoleStreamLimit, type StreamLimiter } from "./limits";
import type { Poller } from "./poller";
import { sseResponse } from "./response";

const querySchema = z.object({
  once: z.enum(["0", "1"], { error: 'expected "0" or "1"' }).optional(),
  /** For clients that cannot set headers: same meaning as the Last-Event-ID header. */
  lastEventId: z.string().optional(),
});

/** Reconnect delay the browser uses after a drop: quick, but not a tight loop. */
const RETRY_MS = 3_000;

let log: Logger | undefined;
const streamLog = () => (log ??= createLogger("console", consoleConfig().logLevel).child({ component: "sse" }));

function parseLastId(value: string | null | undefined): number | undefined {
  if (!value || !/^\d{1,15}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

export interface StreamRouteOptions {
  keepAliveMs?: number;
  /** Connection caps (default: the console's, CONSOLE_SSE_MAX_PER_CLIENT / _TOTAL). */
  limiter?: StreamLimiter;
}

/**
 * GET handler of one SSE stream backed by a shared poller: the ring buffer first
 * (after `Last-Event-ID` when given), then live events. `?once=1` answers the
 * newest event (waiting for the first poll if there is none yet) and closes.
 * Past a connection cap: 429 `too_many_streams` with Retry-After (lib/sse/limits.ts).
 */
export function streamRoute(getPoller: () => Poller<unknown>, options: StreamRouteOptions = {}) {
  return withApiErrors(streamLog, (request: Request) => {
    const query = parseSearchParams(request.url, querySchema);
    const lastId = parseLastId(request.headers.get("last-event-id") ?? query.lastEventId);
    const poller = getPoller();
    const keepAliveMs = options.keepAliveMs ?? consoleConfig().sse.keepAliveMs;
    return sseResponse(request, {
      keepAliveMs,
      retryMs: RETRY_MS,
      limit: consoleStreamLimit(request, options.limiter),
      start(sink) {
        if (query.once === "1") {
          // Only a running poller's newest event is fresh; otherwise wait for a new poll.
          const latest = poller.running ? poller.latest() : undefined;
          if (latest) {
            sink.send(latest);
            sink.close();
            return () => {};
          }
          return poller.subscribe((e) => {
            sink.send(e);
            sink.close();
          });
        }
        for (const e of poller.backlog(lastId)) sink.send(e);
        return poller.subscribe(sink.send);
      },
    });
  });
}
