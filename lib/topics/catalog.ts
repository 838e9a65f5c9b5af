import "server-only";
import { consoleConfig } from "@/lib/config/console";
import type { TopicRole } from "./types";

export interface CatalogTopic {
  name: string;
  role: TopicRole;
  writer: string;
}

/** The stage that writes each kind of topic, as the Topics page says it. */
const WRITERS: Record<TopicRole, string> = {
  ingest: "producers outside Embedline (agents), and the console's Ingest page",
  embedding_input: "parse stage (Spark job or parse worker)",
  embeddings: "embed-worker",
  parse_dlq: "parse stage (records it cannot parse)",
  embed_dlq: "embed-worker and emb-indexer (records they cannot embed or index)",
  spark_progress: "Spark job (its streaming query's progress)",
};

/**
 * The pipeline's topics, in the order records flow through them: the only
 * topics the browser shows (never the broker's internal ones or another
 * application's). A name configured for two roles is listed once, first role.
 */
export function pipelineTopics(): CatalogTopic[] {
  const cfg = consoleConfig();
  const roles: [TopicRole, string][] = [
    ["ingest", cfg.topics.ingest],
    ["embedding_input", cfg.topics.embedInput],
    ["embeddings", cfg.topics.embeddings],
    ["parse_dlq", cfg.topics.parseDlq],
    ["embed_dlq", cfg.topics.dlq],
    ["spark_progress", cfg.sparkProgressTopic],
  ];
  const seen = new Set<string>();
  return roles.flatMap(([role, name]) => {
    if (seen.has(name)) return [];
    seen.add(name);
    return [{ name, role, writer: WRITERS[role] }];
  });
}

/** The catalog entry of `name`, or undefined when it is not one of the pipeline's topics. */
export function findPipelineTopic(name: string): CatalogTopic | undefined {
  return pipelineTopics().find((t) => t.name === name);
}
