import type { ComponentKind } from "@/lib/health/schema";

/** Display names of components the console knows; unknown names show as sent. */
const names: Record<string, string> = {
  kafka: "Kafka",
  console: "Console",
  "embedding-service": "Embedding service",
  "parse-worker": "Parse worker",
  spark: "Spark parse job",
  "embed-worker": "Embed worker",
  indexer: "Indexer",
  reddb: "RedDB",
};

const kinds: Record<ComponentKind, string> = {
  kafka: "Kafka protocol",
  http: "HTTP /health",
  process: "this process",
};

/** `embedding-service-1` (one of several INFERMESH_URL instances) reads "Embedding service 1". */
export const componentLabel = (name: string) => {
  const numbered = /^(.+)-(\d+)$/.exec(name);
  const base = numbered ? names[numbered[1]!] : undefined;
  return names[name] ?? (base ? `${base} ${numbered![2]}` : name);
};
export const kindLabel = (kind: ComponentKind) => kinds[kind];
