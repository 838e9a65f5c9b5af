import "server-only";
import type { Message } from "kafkajs";
import { consoleConfig } from "@/lib/config/console";
import { producer } from "@/lib/upstreams/kafka";
import { REDRIVEN_FROM_HEADER, REPLAY_HEADER, type DlqItem } from "./item";

export type SkipReason = "replay_limit" | "not_redrivable";

export interface RedrivePlan {
  send: { topic: string; message: Message; id: string }[];
  skipped: { id: string; reason: SkipReason }[];
}

/**
 * What a redrive sends: each entry back to its source topic as the record that
 * topic carries, with the replay count raised by one. An entry already
 * redriven `maxReplays` times is skipped, so a poison record cannot loop; an
 * entry without text or source (the input never parsed) cannot be rebuilt.
 * Pure: tested without Kafka.
 */
export function planRedrive(items: DlqItem[], opts: { maxReplays: number; embedInputTopic: string; dlqName: string }): RedrivePlan {
  const plan: RedrivePlan = { send: [], skipped: [] };
  for (const item of items) {
    if (item.replay_count >= opts.maxReplays) {
      plan.skipped.push({ id: item.id, reason: "replay_limit" });
      continue;
    }
    if (item.text === null || !item.source) {
      plan.skipped.push({ id: item.id, reason: "not_redrivable" });
      continue;
    }
    const topic = item.source.topic;
    // embedding_input carries the parsed record; any other source (the raw topic) gets a JSON object the parse rules read.
    const value = topic === opts.embedInputTopic ? { text: item.text, topic: item.topic, kafka_ts: item.kafka_ts, doc_id: item.doc_id } : { text: item.text, ...(item.doc_id ? { doc_id: item.doc_id } : {}) };
    plan.send.push({
      id: item.id,
      topic,
      message: {
        key: item.doc_id ?? undefined,
        value: JSON.stringify(value),
        headers: { [REPLAY_HEADER]: String(item.replay_count + 1), [REDRIVEN_FROM_HEADER]: `${opts.dlqName}/${item.id}` },
      },
    });
  }
  return plan;
}

/** Send a plan with the console's idempotent producer, one batch per topic. */
export async function executeRedrive(plan: RedrivePlan): Promise<void> {
  if (plan.send.length === 0) return;
  const byTopic = new Map<string, Message[]>();
  for (const s of plan.send) byTopic.set(s.topic, [...(byTopic.get(s.topic) ?? []), s.message]);
  const p = await producer();
  await p.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
}

export function redriveOptions(dlqName: string) {
  const cfg = consoleConfig();
  return { maxReplays: cfg.maxReplays, embedInputTopic: cfg.topics.embedInput, dlqName };
}
