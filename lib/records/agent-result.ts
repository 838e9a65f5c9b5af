import { z } from "zod";

/**
 * A message on `agent.results` (SPARK_KAFKA_TOPICS), once its value is decoded:
 * any JSON object, or any other string (non-JSON text, a JSON array or a JSON
 * literal all count as raw strings). How the parse stage reads one is spelled
 * out in parse-raw-message.ts.
 */
export const agentResultSchema = z.union([z.record(z.string(), z.unknown()), z.string()]);

export type AgentResult = z.infer<typeof agentResultSchema>;

/** The top-level fields the parse stage looks at, in order of precedence. */
export const TEXT_FIELDS = ["text", "message", "content", "prompt", "body"] as const;
export const DOC_ID_FIELDS = ["doc_id", "id", "document_id", "key"] as const;
