import "server-only";
import type { EmbeddingClientConfig } from "../config/embedding-client";
import { createBalancedClient, type BalancedClientOptions, type UpstreamCallConfig } from "./balanced-client";
import { EmbeddingCache } from "./cache";
import { decodeAnswer } from "./decode-answer";
import { wireFormats, type ProviderName } from "./providers";
import { Transport } from "./transport";
import type { EmbedResult, EmbeddingClient } from "./types";

/** How one client reaches one upstream. */
export interface SingleUpstreamConfig extends UpstreamCallConfig {
  url: string;
}

/** A client that speaks one provider's wire format to one upstream, without cache. */
export function createProviderClient(provider: ProviderName, cfg: SingleUpstreamConfig): EmbeddingClient {
  const wire = wireFormats[provider];
  const transport = new Transport(cfg);
  return {
    provider,
    model: cfg.model,
    async embed(texts, signal) {
      if (texts.length === 0) return { vectors: [], model: cfg.model, dim: 0, rttMs: 0, attempts: 0, cacheHits: 0 };
      const { text, rttMs, attempts } = await transport.postJson(wire.path, wire.body(texts, cfg.model), signal);
      const { vectors, vectorsJson, model } = decodeAnswer(provider, text, texts.length);
      return { vectors, vectorsJson, model: model ?? cfg.model, dim: vectors[0]?.length ?? 0, rttMs, attempts, cacheHits: 0 };
    },
    close: () => transport.close(),
  };
}

/**
 * Put an LRU cache in front of a client: only the texts it has not seen go
 * upstream (each distinct text once), and answers come back in input order.
 */
export function withCache(inner: EmbeddingClient, cache: EmbeddingCache): EmbeddingClient & { cache: EmbeddingCache } {
  return {
    provider: inner.provider,
    model: inner.model,
    cache,
    upstreams: inner.upstreams,
    async embed(texts, signal): Promise<EmbedResult> {
      // Copies, so a caller that normalises in place cannot change the cache.
      const out: (number[] | undefined)[] = texts.map((t) => cache.get(inner.model, t)?.slice());
      const missing = [...new Set(texts.filter((_, i) => out[i] === undefined))];
      const hits = out.filter((v) => v !== undefined).length;
      if (missing.length === 0) {
        return { vectors: out as number[][], model: inner.model, dim: out[0]?.length ?? 0, rttMs: 0, attempts: 0, cacheHits: hits };
      }
      const res = await inner.embed(missing, signal);
      const byText = new Map(missing.map((t, i) => [t, res.vectors[i] as number[]]));
      for (const [t, v] of byText) cache.set(inner.model, t, v);
      const vectors = texts.map((t, i) => out[i] ?? (byText.get(t) as number[]));
      // JSON texts only for the vectors that came from this answer.
      const jsonByText = new Map(missing.map((t, i) => [t, res.vectorsJson?.[i]]));
      const vectorsJson = texts.map((t, i) => (out[i] === undefined ? jsonByText.get(t) : undefined));
      return { ...res, vectors, vectorsJson, cacheHits: hits };
    },
    close: () => inner.close(),
  };
}

/**
 * The client EMBED_PROVIDER and friends describe: balanced over every
 * INFERMESH_URL instance (one is a list of one), cached when EMBED_CACHE_SIZE > 0.
 */
export function createEmbeddingClient(cfg: EmbeddingClientConfig, opts?: BalancedClientOptions): EmbeddingClient & { cache?: EmbeddingCache } {
  const client = createBalancedClient(cfg.provider, cfg, opts);
  return cfg.cacheSize > 0 ? withCache(client, new EmbeddingCache(cfg.cacheSize)) : client;
}
