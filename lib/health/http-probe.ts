import "server-only";
import { STATUS_CODES } from "node:http";
import { Pool } from "undici";
import { redactUrl } from "@/lib/config/redact";
import type { HealthComponent, Probe } from "./probe";

/** One keep-alive pool per upstream origin, shared by every probe of it. */
const pools = new Map<string, Pool>();

function poolFor(origin: string): Pool {
  let pool = pools.get(origin);
  if (!pool) {
    // One request per poll interval: two connections cover an overlapping poll.
    pool = new Pool(origin, { connections: 2, keepAliveTimeout: 10_000 });
    pools.set(origin, pool);
  }
  return pool;
}

/**
 * Turns a 2xx answer's JSON body into the one-line detail shown beside it. It may
 * throw to mark the component down: a process that answers 200 while degraded
 * (waiting out an outage) is alive, but not healthy.
 */
export type DescribeBody = (body: unknown) => string | null;

const MAX_BODY_BYTES = 64 * 1024;

/**
 * Probe `GET <url>`: healthy on any 2xx. The body is always drained (bounded),
 * so the connection returns to the pool; redirects are failures, not followed.
 */
export function httpProbe(url: string, describe?: DescribeBody): Probe {
  const { origin, pathname, search } = new URL(url);
  return async (signal) => {
    const res = await poolFor(origin).request({
      method: "GET",
      path: `${pathname}${search}`,
      headers: { accept: "application/json" },
      signal,
    });
    const ok = res.statusCode >= 200 && res.statusCode <= 299;
    if (!ok || !describe || Number(res.headers["content-length"] ?? 0) > MAX_BODY_BYTES) {
      await res.body.dump({ limit: MAX_BODY_BYTES });
    } else {
      // A body that is not JSON is still a healthy answer, just without detail.
      return { detail: describe(await res.body.json().catch(() => null)) };
    }
    if (!ok) throw new Error(`HTTP ${res.statusCode} ${STATUS_CODES[res.statusCode] ?? ""}`.trim());
  };
}

/** A component checked over HTTP, e.g. `httpComponent("indexer", "http://127.0.0.1:9102/health")`. */
export function httpComponent(name: string, url: string, describe?: DescribeBody): HealthComponent {
  // The target is shown by /api/health and logged: never with a URL's credentials.
  return { name, kind: "http", target: redactUrl(url), probe: httpProbe(url, describe) };
}

/** Close every pool (tests, shutdown). Later probes open fresh pools. */
export async function closeHttpProbes(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((p) => p.close()));
}
