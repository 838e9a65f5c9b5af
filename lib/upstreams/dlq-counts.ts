import "server-only";
import { consoleConfig } from "@/lib/config/console";
import { decodeJson, inferStage, type DlqTopics } from "@/lib/dlq/item";
import { DLQ_STAGES, type DlqStage } from "@/lib/records/dlq-record";
import { isMissingTopic, readRanges, withAdmin, type ReadMessage } from "./kafka";
import { nowSec } from "./rate";

export type StageCounts = Record<DlqStage, number>;

/** `/api/streams?names=dlq`: entries in the Kafka DLQs now, per stage and per topic. */
export type DlqCountsEvent =
  | { total: number; by_stage: StageCounts; by_topic: Record<string, number>; complete: boolean; timestamp: number }
  | { error: "unreachable"; message: string; timestamp: number };

/** How long one poll may read new DLQ records; a large backlog is counted over several polls (`complete: false` until then). */
const READ_DEADLINE_MS = 8_000;

/** The stage of one DLQ record as read from Kafka (recorded, else inferred from the topic and source topic). */
export function stageOf(topic: string, m: Pick<ReadMessage, "value" | "partition" | "offset">, topics: DlqTopics): DlqStage | null {
  const loc = { kind: "kafka" as const, topic, partition: m.partition, offset: m.offset };
  if (topic === topics.parse && topic !== topics.embed) return "parse";
  const v = decodeJson(m.value) as { stage?: unknown; source?: { topic?: unknown } } | null;
  const recorded = v && typeof v === "object" && typeof v.stage === "string" && (DLQ_STAGES as readonly string[]).includes(v.stage) ? (v.stage as DlqStage) : undefined;
  return recorded ?? inferStage(loc, v && typeof v === "object" && typeof v.source?.topic === "string" ? v.source.topic : null, topics);
}

/**
 * What one partition of a DLQ topic holds: the offsets of its records per
 * stage, ascending. Offsets rather than counts because the topic's end minus
 * start also counts transaction markers (every DLQ writer is transactional),
 * and because retention drops the oldest: those are removed by offset.
 */
export class PartitionCount {
  readonly offsets: Record<DlqStage, number[]> = { parse: [], embed: [], index: [] };
  /** Everything before this offset has been read. */
  readTo = 0;

  add(stage: DlqStage, offset: number): void {
    this.offsets[stage].push(offset);
  }

  /** Retention moved the partition's start: drop what it deleted. */
  dropBefore(low: number): void {
    for (const s of DLQ_STAGES) {
      const list = this.offsets[s];
      let i = 0;
      while (i < list.length && list[i]! < low) i++;
      if (i > 0) list.splice(0, i);
    }
    this.readTo = Math.max(this.readTo, low);
  }

  count(stage: DlqStage): number {
    return this.offsets[stage].length;
  }
}

/**
 * The count of entries in both Kafka DLQs per stage, kept up to date by
 * reading only what was added since the last poll (a fresh console reads each
 * DLQ once). One instance per console process (the shared poller).
 */
export function dlqCountsPoll() {
  const state = new Map<string, PartitionCount>();
  return async (signal: AbortSignal): Promise<DlqCountsEvent> => {
    const cfg = consoleConfig();
    const topics: DlqTopics = { parse: cfg.topics.parseDlq, embed: cfg.topics.dlq, embeddings: cfg.topics.embeddings };
    try {
      let complete = true;
      const byTopic: Record<string, number> = {};
      const byStage: StageCounts = { parse: 0, embed: 0, index: 0 };
      for (const topic of new Set([topics.parse, topics.embed])) {
        const offsets = await withAdmin((a) => a.fetchTopicOffsets(topic)).catch((err: unknown) => {
          // A DLQ topic nothing has written to yet may not exist: it holds nothing.
          if (isMissingTopic(err)) return [];
          throw err;
        });
        const ranges = [];
        for (const o of offsets) {
          const key = `${topic}/${o.partition}`;
          const p = state.get(key) ?? new PartitionCount();
          state.set(key, p);
          p.dropBefore(Number(o.low));
          if (Number(o.high) > p.readTo) ranges.push({ partition: o.partition, start: BigInt(p.readTo), end: BigInt(o.high) });
        }
        if (ranges.length > 0) {
          const seen = new Map<number, number>();
          const read = await readRanges({ topic, ranges }, (m) => {
            const stage = stageOf(topic, m, topics);
            if (stage) state.get(`${topic}/${m.partition}`)!.add(stage, Number(m.offset));
            seen.set(m.partition, Number(m.offset) + 1);
          }, AbortSignal.any([signal, AbortSignal.timeout(READ_DEADLINE_MS)]), "poll");
          for (const r of ranges) {
            const p = state.get(`${topic}/${r.partition}`)!;
            // A complete read reached every range's end; a partial one resumes after the last record read.
            p.readTo = read.complete ? Number(r.end) : Math.max(p.readTo, seen.get(r.partition) ?? p.readTo);
          }
          complete &&= read.complete;
        }
        byTopic[topic] = 0;
        for (const o of offsets) {
          const p = state.get(`${topic}/${o.partition}`)!;
          for (const s of DLQ_STAGES) {
            byStage[s] += p.count(s);
            byTopic[topic] += p.count(s);
          }
        }
      }
      const total = DLQ_STAGES.reduce((n, s) => n + byStage[s], 0);
      return { total, by_stage: byStage, by_topic: byTopic, complete, timestamp: nowSec() };
    } catch (err) {
      return { error: "unreachable", message: `Kafka unreachable (${(err as Error).message})`, timestamp: nowSec() };
    }
  };
}
