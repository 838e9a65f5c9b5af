import "server-only";
import type { IHeaders, Message } from "kafkajs";
import { consoleConfig } from "@/lib/config/console";
import { chunkRecords, type OutgoingRecord } from "@/lib/kafka/record-limits";
import { originalBytes } from "@/lib/records/dlq-original";
import type { DlqBytes, DlqOriginal } from "@/lib/records/dlq-record";
import { producer } from "@/lib/upstreams/kafka";
import { REDRIVEN_FROM_HEADER, REPLAY_HEADER, type DlqItem } from "./item";

export type SkipReason = "replay_limit" | "not_redrivable";

export interface RedrivePlan {
  send: { topic: string; message: Message; id: string; how: "original" | "rebuilt" }[];
  /** `detail` says why, in one line, for `not_redrivable`. */
  skipped: { id: string; reason: SkipReason; detail?: string }[];
}

/**
 * What a redrive sends. An entry already redriven `maxReplays` times is
 * skipped, so a poison record cannot loop. An entry that kept its original
 * message whole goes back to its source topic as exactly that message: the
 * same key, value and headers, the two redrive headers replaced (this is how a
 * parse-stage entry goes back to agent.results). An entry written before
 * originals were kept is rebuilt from its text, as the record its source topic
 * carries. A truncated or withheld original, or an entry without text or
 * source, cannot be re-sent and is skipped with the reason.
 * Pure: tested without Kafka.
 */
export function planRedrive(items: DlqItem[], opts: { maxReplays: number; embedInputTopic: string }): RedrivePlan {
  const plan: RedrivePlan = { send: [], skipped: [] };
  for (const item of items) {
    const skip = (detail: string) => plan.skipped.push({ id: item.id, reason: "not_redrivable", detail });
    if (item.replay_count >= opts.maxReplays) {
      plan.skipped.push({ id: item.id, reason: "replay_limit", detail: `already redriven ${item.replay_count} times (limit ${opts.maxReplays})` });
      continue;
    }
    if (!item.valid || !item.source) {
      skip("not a DLQ record of the expected shape");
      continue;
    }
    const redriveHeaders = { [REPLAY_HEADER]: String(item.replay_count + 1), [REDRIVEN_FROM_HEADER]: item.id };
    if (item.original) {
      const message = originalMessage(item.original as DlqOriginal, redriveHeaders);
      if (typeof message === "string") skip(message);
      else plan.send.push({ id: item.id, topic: item.source.topic, message, how: "original" });
      continue;
    }
    if (item.text === null) {
      skip("written before originals were kept, and without text to rebuild it from");
      continue;
    }
    const topic = item.source.topic;
    // embedding_input carries the parsed record; any other source (the raw topic) gets a JSON object the parse rules read.
    const value = topic === opts.embedInputTopic ? { text: item.text, topic: item.topic, kafka_ts: item.kafka_ts, doc_id: item.doc_id } : { text: item.text, ...(item.doc_id ? { doc_id: item.doc_id } : {}) };
    plan.send.push({ id: item.id, topic, how: "rebuilt", message: { key: item.doc_id ?? undefined, value: JSON.stringify(value), headers: redriveHeaders } });
  }
  return plan;
}

/** The original message to re-send, with the redrive headers in place of any old copies; or why it cannot be. */
function originalMessage(o: DlqOriginal, redriveHeaders: Record<string, string>): Message | string {
  const whole = (b: DlqBytes | null, what: string): Buffer | null | string => {
    const bytes = originalBytes(b);
    if (bytes !== undefined) return bytes;
    return b!.truncated ? `the original ${what} was truncated (${b!.size} bytes, sha256 ${b!.sha256})` : `the original ${what} was withheld (EMBED_STORE_TEXT=0)`;
  };
  const key = whole(o.key, "key");
  if (typeof key === "string") return key;
  const value = whole(o.value, "value");
  if (typeof value === "string") return value;
  // kafkajs writes headers in object order, repeats of one key as an array in order.
  // No prototype: a header named `__proto__` or `constructor` is data like any other.
  const headers = Object.create(null) as IHeaders;
  for (const h of o.headers) {
    if (Object.hasOwn(redriveHeaders, h.key)) continue;
    const v = whole(h.value, `header ${h.key}`);
    if (typeof v === "string") return v;
    const prev = headers[h.key];
    // A null header value is sent as null (kafkajs encodes it as length -1).
    headers[h.key] = (prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v]) as Buffer;
  }
  return { key, value, headers: { ...headers, ...redriveHeaders } };
}

/** Produce requests of at most this many bytes: a redrive of many originals near the 1 MB message limit must not make one request past the broker's. */
const REDRIVE_BATCH_BYTES = 900_000;

/** Send a plan with the console's idempotent producer, per topic, in size-bounded batches. */
export async function executeRedrive(plan: RedrivePlan): Promise<void> {
  if (plan.send.length === 0) return;
  const byTopic = new Map<string, Message[]>();
  for (const s of plan.send) byTopic.set(s.topic, [...(byTopic.get(s.topic) ?? []), s.message]);
  const p = await producer();
  for (const [topic, messages] of byTopic) {
    for (const chunk of chunkRecords(messages as OutgoingRecord[], REDRIVE_BATCH_BYTES)) await p.send({ topic, acks: -1, messages: chunk as Message[] });
  }
}

export function redriveOptions() {
  const cfg = consoleConfig();
  return { maxReplays: cfg.maxReplays, embedInputTopic: cfg.topics.embedInput };
}
