import "server-only";
import kafkajs, { type Admin } from "kafkajs";
import { replicaSizes } from "@/lib/kafka/log-dirs";
import { kafka, withAdmin } from "@/lib/upstreams/kafka";
import { countRecords } from "@/lib/upstreams/record-counts";
import { pipelineTopics, type CatalogTopic } from "./catalog";
import type { PartitionSummary, TopicSummary, TopicsAnswer } from "./types";

// kafkajs is CommonJS: under plain Node ESM (the benches) only its default export is named.
const { ConfigResourceTypes } = kafkajs;
const CONFIG_NAMES = ["retention.ms", "retention.bytes", "cleanup.policy", "max.message.bytes"];

/**
 * Every pipeline topic as the Topics page shows it: partitions with their
 * start and end offsets and the records between them (read_committed, the
 * lag figures' rule), bytes on disk, retention and cleanup, who writes it
 * and which consumer groups read it. One admin round per kind of figure, all
 * topics at once; a topic nothing has written yet is listed as not created.
 */
export async function describePipelineTopics(): Promise<TopicsAnswer> {
  const catalog = pipelineTopics();
  return withAdmin(async (admin) => {
    const existing = new Set(await admin.listTopics());
    const present = catalog.filter((t) => existing.has(t.name));
    const [offsets, configs, readers] = await Promise.all([
      Promise.all(present.map(async (t) => [t.name, await admin.fetchTopicOffsets(t.name)] as const)).then((e) => new Map(e)),
      topicConfigs(admin, present.map((t) => t.name)),
      readerGroups(admin, present.map((t) => t.name)),
    ]);
    const sizes = await replicaSizes(kafka(), present.map((t) => ({ topic: t.name, partitions: (offsets.get(t.name) ?? []).map((o) => o.partition) }))).catch(() => []);
    const topics = await Promise.all(
      catalog.map(async (t): Promise<TopicSummary> => {
        if (!existing.has(t.name)) return emptySummary(t);
        const partitions = await Promise.all(
          (offsets.get(t.name) ?? []).map(async (o): Promise<PartitionSummary> => {
            const count = await countRecords(t.name, o.partition, Number(o.low), Number(o.high), "request");
            const replicas = sizes.filter((s) => s.topic === t.name && s.partition === o.partition && !s.future);
            return { partition: o.partition, start: o.low, end: o.high, records: count.records, exact: count.exact, size_bytes: replicas.length ? Math.max(...replicas.map((r) => r.bytes)) : null };
          }),
        );
        partitions.sort((a, b) => a.partition - b.partition);
        const replicas = sizes.filter((s) => s.topic === t.name && !s.future);
        const c = configs.get(t.name) ?? {};
        return {
          ...t,
          exists: true,
          readers: readers.get(t.name) ?? [],
          partitions,
          records: partitions.reduce((n, p) => n + p.records, 0),
          exact: partitions.every((p) => p.exact),
          size_bytes: replicas.length ? replicas.reduce((n, r) => n + r.bytes, 0) : null,
          retention_ms: numberOrNull(c["retention.ms"]),
          retention_bytes: numberOrNull(c["retention.bytes"]),
          cleanup_policy: c["cleanup.policy"] ?? null,
          max_message_bytes: numberOrNull(c["max.message.bytes"]),
        };
      }),
    );
    return { topics, timestamp: Date.now() / 1000 };
  });
}

function emptySummary(t: CatalogTopic): TopicSummary {
  return { ...t, exists: false, readers: [], partitions: [], records: 0, exact: true, size_bytes: null, retention_ms: null, retention_bytes: null, cleanup_policy: null, max_message_bytes: null };
}

function numberOrNull(v: string | undefined): number | null {
  const n = v === undefined ? NaN : Number(v);
  return Number.isFinite(n) ? n : null;
}

async function topicConfigs(admin: Admin, names: string[]): Promise<Map<string, Record<string, string>>> {
  if (names.length === 0) return new Map();
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: names.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: CONFIG_NAMES })),
  });
  return new Map(resources.map((r) => [r.resourceName, Object.fromEntries(r.configEntries.map((e) => [e.configName, e.configValue]))]));
}

/** Offset fetches in flight at once while finding each topic's readers. */
const GROUPS_AT_ONCE = 16;

/** Consumer groups (and Kafka-offset-only readers) with an offset committed on each topic. */
async function readerGroups(admin: Admin, names: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (names.length === 0) return out;
  const { groups } = await admin.listGroups();
  const ids = groups.filter((g) => g.protocolType === "consumer" || g.protocolType === "").map((g) => g.groupId).sort();
  // kafkajs asks one group per request: a few at a time, so a broker with hundreds of groups answers in a fraction of the time.
  for (let i = 0; i < ids.length; i += GROUPS_AT_ONCE) {
    const batch = ids.slice(i, i + GROUPS_AT_ONCE);
    const answers = await Promise.all(batch.map((groupId) => admin.fetchOffsets({ groupId, topics: names }).catch(() => [])));
    for (const [k, committed] of answers.entries()) {
      for (const t of committed) {
        if (t.partitions.some((p) => Number(p.offset) >= 0)) out.set(t.topic, [...(out.get(t.topic) ?? []), batch[k]!]);
      }
    }
  }
  return out;
}
