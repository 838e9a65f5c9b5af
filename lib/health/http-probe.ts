import "server-only";
import { STATUS_CODES } from "node:http";
import { Pool } from "undici";
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
 * Probe `GET <url>`: healthy on any 2xx. The body is always drained (bounded),
 * so the connection returns to the pool; redirects are failures, not followed.
 */
export function httpProbe(url: string): Probe {
  const { origin, pathname, search } = new URL(url);
  return async (signal) => {
    const res = await poolFor(origin).request({
      method: "GET",
      path: `${pathname}${search}`,
      headers: { accept: "application/json" },
      signal,
    });
    await res.body.dump({ limit: 64 * 1024 });
    if (res.statusCode < 200 || res.statusCode > 299) {
      throw new Error(`HTTP ${res.statusCode} ${STATUS_CODES[res.statusCode] ?? ""}`.trim());
    }
  };
}

/** A component checked over HTTP, e.g. `httpComponent("indexer", "http://127.0.0.1:9102/health")`. */
export function httpComponent(name: string, url: string): HealthComponent {
  return { name, kind: "http", target: url, probe: httpProbe(url) };
}

/** Close every pool (tests, shutdown). Later probes open fresh pools. */
export async function closeHttpProbes(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((p) => p.close()));
}
