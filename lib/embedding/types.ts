import type { UpstreamSnapshot } from "./balancer";

export interface EmbedResult {
  /** One vector per input, in input order. */
  vectors: number[][];
  /**
   * Each vector's JSON text as the upstream sent it (vector-json.ts), for
   * writers that pass vectors on as JSON; undefined where unknown (cache hits,
   * answers it could not be matched in).
   */
  vectorsJson?: (string | undefined)[];
  /** The model that made them, as the upstream (or the configuration) names it. */
  model: string;
  dim: number;
  /** Round trip of the upstream call that answered (0 when every input came from the cache). */
  rttMs: number;
  /** Upstream attempts it took (0 when every input came from the cache). */
  attempts: number;
  /** Inputs answered from the cache. */
  cacheHits: number;
}

/** One interface for every provider; chosen by EMBED_PROVIDER. */
export interface EmbeddingClient {
  readonly provider: string;
  readonly model: string;
  embed(texts: string[], signal?: AbortSignal): Promise<EmbedResult>;
  close(): Promise<void>;
  /** Each instance's state and figures, for a client balanced over several (INFERMESH_URL=a,b). */
  upstreams?(): UpstreamSnapshot[];
}

/** How one provider speaks: the request to send and how to read the answer. */
export interface WireFormat {
  path: string;
  body(texts: string[], model: string): unknown;
  /** Vectors and, when the upstream says, the model name; shape checks happen after. */
  parse(json: unknown): { vectors: unknown; model?: string };
}
