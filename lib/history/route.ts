import "server-only";
import { z } from "zod";
import { consoleConfig } from "@/lib/config/console";
import { parseSearchParams, withApiErrors } from "@/lib/http/api-error";
import { createLogger, type Logger } from "@/lib/log";
import type { HistoryStore } from "./store";

/** Windows the console's selector offers, and how long each is. */
export const HISTORY_WINDOWS = { "15m": 15 * 60_000, "1h": 60 * 60_000, "6h": 6 * 60 * 60_000, "24h": 24 * 60 * 60_000 } as const;
export type HistoryWindow = keyof typeof HISTORY_WINDOWS;
const WINDOW_NAMES = Object.keys(HISTORY_WINDOWS) as [HistoryWindow, ...HistoryWindow[]];

export function historyQuerySchema(streams: readonly string[]) {
  return z.object({
    names: z
      .string({ error: `names is required: a comma-separated list among ${streams.join(",")}` })
      .transform((v) => [...new Set(v.split(",").map((n) => n.trim()))])
      .pipe(z.array(z.enum(streams as [string, ...string[]], { error: `expected names among ${streams.join(",")}` })).min(1)),
    window: z.enum(WINDOW_NAMES, { error: `expected window among ${WINDOW_NAMES.join(",")}` }).default("15m"),
  });
}

let log: Logger | undefined;
const routeLog = () => (log ??= createLogger("console", consoleConfig().logLevel).child({ route: "/api/history" }));

/**
 * GET /api/history?names=a,b&window=15m|1h|6h|24h →
 * `{window, now, events: {[name]: [{t, data}]}}`, oldest first; `t` is the
 * server's epoch ms of the poll, `data` the event as the stream sends it.
 * Unknown name or window: 422. The body is assembled from the stored JSON
 * lines, so a 24 h answer is not parsed and re-serialised.
 */
export function historyRoute(getStore: () => Promise<HistoryStore>, streams: readonly string[], now: () => number = Date.now) {
  const schema = historyQuerySchema(streams);
  return withApiErrors(routeLog, async (request: Request) => {
    const query = parseSearchParams(request.url, schema);
    const store = await getStore();
    const at = now();
    const events = store.query(query.names, HISTORY_WINDOWS[query.window], at);
    const parts = query.names.map((name) => `${JSON.stringify(name)}:[${events[name]!.map((p) => `{"t":${p.t},"data":${p.data}}`).join(",")}]`);
    const body = `{"window":${JSON.stringify(query.window)},"now":${at},"events":{${parts.join(",")}}}`;
    return new Response(body, { headers: { "content-type": "application/json", "cache-control": "no-store" } });
  });
}
