export { createEmbeddingClient, createProviderClient, withCache } from "./client";
export { createBalancedClient } from "./balanced-client";
export type { UpstreamSnapshot } from "./balancer";
export { EmbeddingCache, cacheKey } from "./cache";
export { EmbeddingError, EmbeddingRejectedError, EmbeddingUnavailableError, BadEmbeddingResponseError } from "./errors";
export { MODEL_REGISTRY, findModel, dimensionMismatch, type ModelSpec, type ModelProvider } from "./registry";
export type { EmbeddingClient, EmbedResult } from "./types";
