import "server-only";
import { clientAddress } from "@/lib/auth/client-address";
import { consoleConfig } from "@/lib/config/console";
import { ApiError } from "@/lib/http/api-error";

/**
 * How long a refused client should wait before it tries again: streams end when
 * tabs close or navigate, so a slot is usually free within seconds.
 */
export const STREAM_RETRY_AFTER_SEC = 5;

export interface StreamCaps {
  /** Streams one client address may hold open (CONSOLE_SSE_MAX_PER_CLIENT). */
  maxPerClient: number;
  /** Streams the console holds open in total (CONSOLE_SSE_MAX_TOTAL). */
  maxTotal: number;
}

/**
 * Counts the console's open SSE streams, per client address and in total, and
 * refuses one more past either cap with 429 `too_many_streams` and Retry-After.
 * The client address is only as trustworthy as its headers (lib/auth/client-address.ts):
 * a client can pose as many, so the total cap is what bounds the server.
 */
export class StreamLimiter {
  private readonly byClient = new Map<string, number>();
  private total = 0;

  /** `caps` is read on every acquire, so it may come from configuration parsed later. */
  constructor(private readonly caps: () => StreamCaps) {}

  /** Streams open now (tests, and metrics if the console ever exposes them). */
  get open(): number {
    return this.total;
  }

  openFor(client: string): number {
    return this.byClient.get(client) ?? 0;
  }

  /** Take a slot for one stream of `client` or throw the 429; returns the release, idempotent. */
  acquire(client: string): () => void {
    const { maxPerClient, maxTotal } = this.caps();
    if (this.openFor(client) >= maxPerClient) {
      throw tooMany(`this client already holds ${maxPerClient} live streams, the limit per client (CONSOLE_SSE_MAX_PER_CLIENT); close another console tab or retry later`);
    }
    if (this.total >= maxTotal) {
      throw tooMany(`the console already holds ${maxTotal} live streams, its limit (CONSOLE_SSE_MAX_TOTAL); retry later`);
    }
    this.byClient.set(client, this.openFor(client) + 1);
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = this.openFor(client) - 1;
      if (left > 0) this.byClient.set(client, left);
      else this.byClient.delete(client);
    };
  }
}

function tooMany(message: string): ApiError {
  return new ApiError("too_many_streams", message, { "retry-after": String(STREAM_RETRY_AFTER_SEC) });
}

/**
 * The console's one limiter. Next.js may evaluate a module once per route
 * bundle, so it lives on globalThis: the total spans every stream route.
 */
const KEY = Symbol.for("embedline.sse.limiter");

export function sharedStreamLimiter(caps: () => StreamCaps): StreamLimiter {
  const g = globalThis as { [KEY]?: StreamLimiter };
  g[KEY] ??= new StreamLimiter(caps);
  return g[KEY];
}

/**
 * The caps a console stream counts against: `limiter` (tests give their own)
 * or the console's, and the request's client address as CONSOLE_TRUST_PROXY
 * says to read it.
 */
export function consoleStreamLimit(request: Request, limiter?: StreamLimiter): { limiter: StreamLimiter; client: string } {
  return {
    limiter: limiter ?? sharedStreamLimiter(() => consoleConfig().sse),
    client: clientAddress(request.headers, consoleConfig().access.trustProxy),
  };
}
