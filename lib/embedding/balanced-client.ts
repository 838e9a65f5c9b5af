import "server-only";
import { setTimeout as sleep } from "node:timers/promises";
import { Balancer, type Clock, type UpstreamSnapshot } from "./balancer";
import { decodeAnswer } from "./decode-answer";
import { EmbeddingUnavailableError } from "./errors";
import { wireFormats, type ProviderName } from "./providers";
import { Retryable, retryDelayMs, Transport } from "./transport";
import type { EmbedResult, EmbeddingClient } from "./types";

/** How calls reach an embedding service, whatever the number of its instances. */
export interface UpstreamCallConfig {
  model: string;
  apiKey?: string;
  timeoutMs: number;
  /** Retries of one call after its first attempt (a balanced client sends each to another instance while one is left untried). */
  retries: number;
  backoffMs: number;
  /** Keep-alive connections per instance. */
  connections: number;
}

export interface BalancedClientConfig extends UpstreamCallConfig {
  /** One or more base URLs of instances of the same service (same model, same wire format). */
  urls: string[];
}

export interface BalancedClientOptions {
  clock?: Clock;
  probeFirstMs?: number;
  probeMaxMs?: number;
  onChange?: (url: string, state: "up" | "ejected", why: string) => void;
}

/** What a probe sends: one short text, so a probe costs the instance next to nothing. */
const PROBE_TEXT = "probe";

/**
 * An EmbeddingClient over several instances of one embedding service
 * (INFERMESH_URL=a,b,…), balanced by lib/embedding/balancer.ts. Each attempt
 * goes to one instance through its own keep-alive pool. A retryable failure
 * (connection error, timeout, 408, 429, 5xx) is retried at once on another
 * instance not yet tried by this call; only when none is left does it wait the
 * usual backoff (INFERMESH_BACKOFF_SEC doubling, Retry-After honoured) before
 * going back to one. After `retries` retries it throws
 * EmbeddingUnavailableError as the single-upstream client did, so the
 * embed-worker waits the outage out. A rejection (4xx) or a bad answer is the
 * request's fault, not the instance's: thrown at once, never retried elsewhere.
 *
 * An ejected instance is probed with a one-text embed request in the wire
 * format (every provider answers it; not every provider has /health).
 */
export function createBalancedClient(
  provider: ProviderName,
  cfg: BalancedClientConfig,
  opts: BalancedClientOptions = {},
): EmbeddingClient & { upstreams(): UpstreamSnapshot[] } {
  const wire = wireFormats[provider];
  // Ends a probe under way at close(): a probe to an unresponsive host must not hold shutdown for INFERMESH_TIMEOUT_SEC.
  const closing = new AbortController();
  const balancer = new Balancer(
    cfg.urls.map((url) => ({ url, target: new Transport({ ...cfg, url }) })),
    {
      clock: opts.clock,
      probeFirstMs: opts.probeFirstMs,
      probeMaxMs: opts.probeMaxMs,
      onChange: opts.onChange,
      probe: async (transport) => {
        await transport.postOnce(wire.path, JSON.stringify(wire.body([PROBE_TEXT], cfg.model)), closing.signal);
        return true;
      },
    },
  );
  const now = opts.clock?.now ?? (() => performance.now());

  return {
    provider,
    model: cfg.model,
    upstreams: () => balancer.snapshot(),
    async embed(texts, signal): Promise<EmbedResult> {
      if (texts.length === 0) return { vectors: [], model: cfg.model, dim: 0, rttMs: 0, attempts: 0, cacheHits: 0 };
      const payload = JSON.stringify(wire.body(texts, cfg.model));
      const attemptsAllowed = cfg.retries + 1;
      const tried = new Set<number>();
      let last = "";
      let lastCause: unknown;
      let waits = 0;
      let retryAfterMs: number | undefined;
      for (let attempt = 1; attempt <= attemptsAllowed; attempt++) {
        signal?.throwIfAborted();
        let upstream = balancer.choose(tried);
        if (tried.has(upstream.index)) {
          // Every instance this call could use has failed it once: back off before going back to one.
          await sleep(retryDelayMs(cfg.backoffMs, ++waits, retryAfterMs), undefined, { signal });
          upstream = balancer.choose(tried);
        }
        balancer.start(upstream);
        tried.add(upstream.index);
        const started = now();
        let text: string;
        try {
          text = await upstream.target.postOnce(wire.path, payload, signal);
        } catch (err) {
          if (signal?.aborted) {
            balancer.released(upstream);
            throw signal.reason;
          }
          if (!(err instanceof Retryable)) {
            // A 4xx about this request: the instance answered.
            balancer.succeeded(upstream, now() - started);
            throw err;
          }
          balancer.failed(upstream, err.ejects, err.message);
          last = err.message;
          lastCause = err.cause;
          retryAfterMs = err.retryAfterMs;
          continue;
        }
        const rttMs = now() - started;
        balancer.succeeded(upstream, rttMs);
        const { vectors, vectorsJson, model } = decodeAnswer(provider, text, texts.length);
        return { vectors, vectorsJson, model: model ?? cfg.model, dim: vectors[0]?.length ?? 0, rttMs, attempts: attempt, cacheHits: 0 };
      }
      throw new EmbeddingUnavailableError(attemptsAllowed, last, { cause: lastCause });
    },
    async close() {
      closing.abort();
      balancer.close();
      await Promise.all(balancer.targets().map((t) => t.close()));
    },
  };
}
