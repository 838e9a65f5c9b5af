import kafkajs, { type Kafka } from "kafkajs";
import type { Logger } from "../log";

/**
 * How the stack's topics are replicated: KAFKA_REPLICATION_FACTOR and
 * KAFKA_MIN_INSYNC_REPLICAS, parsed by lib/config/kafka-topics.ts.
 */
export interface TopicReplication {
  /** Replicas per partition; -1 takes the cluster's `default.replication.factor`. */
  replicationFactor?: number;
  /** The topic's `min.insync.replicas`; undefined leaves the broker's setting. */
  minInsyncReplicas?: number;
}

export interface EnsureTopicsOptions extends TopicReplication {
  /** Settings of one topic beside the replication ones, e.g. compactedTopic(EMBED_OUTPUT_TOPIC). */
  configs?: Record<string, Record<string, string>>;
  /** Bound on creating the topics and on waiting for their partition leaders. */
  timeoutMs?: number;
  /**
   * Told about each setting of `configs` that a topic which already existed has
   * otherwise (it is left as it is): e.g. an `embeddings` topic created before it
   * was compacted, whose oldest vectors retention would delete.
   */
  onExistingDiffers?: (difference: { topic: string; name: string; wanted: string; actual: string | undefined }) => void;
}

/**
 * The settings EMBED_OUTPUT_TOPIC is created with: compacted, keyed by doc_id, so
 * the latest vector of every document stays for good and an indexer that is
 * given a partition (or loses its disk) rebuilds it from the topic. Time or size
 * retention would silently drop the oldest documents from every rebuilt index.
 */
export const compactedTopic = (topic: string): Record<string, Record<string, string>> => ({ [topic]: { "cleanup.policy": "compact" } });

/** onExistingDiffers for a process with a logger: one warning per setting, with the command that fixes it. */
export const warnExistingDiffers =
  (log: Logger): NonNullable<EnsureTopicsOptions["onExistingDiffers"]> =>
  ({ topic, name, wanted, actual }) =>
    log.warn(
      { topic, setting: name, wanted, actual: actual ?? null },
      `topic ${topic} exists with ${name}=${actual ?? "(unset)"} where the stack creates it with ${name}=${wanted}; it is left as it is (kafka-configs.sh --alter --entity-type topics --entity-name ${topic} --add-config ${name}=${wanted} changes it)`,
    );

/**
 * Create the topics that do not exist yet, each with `partitions` partitions, and
 * wait until every partition of every named topic has a leader. Topics that exist
 * are left exactly as they are (their partition count, replication and settings
 * are never changed), so this is safe to run at every start. Resolves to the
 * names it created.
 */
export async function ensureTopics(
  kafka: Kafka,
  topics: string[],
  partitions: number,
  { replicationFactor = -1, minInsyncReplicas, configs = {}, timeoutMs = 30_000, onExistingDiffers }: EnsureTopicsOptions = {},
): Promise<string[]> {
  const wanted = [...new Set(topics)];
  if (wanted.length === 0) return [];
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = wanted.filter((t) => !existing.has(t));
    // createTopics resolves false when another client created them first (a race
    // between two starts is fine: both end with the same topics).
    const created =
      missing.length > 0 &&
      (await admin.createTopics({
        topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor, configEntries: topicConfigEntries(topic, { minInsyncReplicas, configs }) })),
        // kafkajs' own wait retries only "leader not available"; a fresh broker also
        // answers "does not host this topic-partition" for a moment. Our loop below
        // tolerates both.
        waitForLeaders: false,
        timeout: timeoutMs,
      }));
    await waitForLeaders(admin, wanted, timeoutMs);
    const kept = wanted.filter((t) => existing.has(t) && configs[t] && Object.keys(configs[t]).length > 0);
    if (onExistingDiffers && kept.length > 0) {
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: kept.map((name) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name, configNames: Object.keys(configs[name]!) })),
      });
      for (const topic of kept) {
        const entries = resources.find((r) => r.resourceName === topic)?.configEntries ?? [];
        for (const [name, wanted] of Object.entries(configs[topic]!)) {
          const actual = entries.find((e) => e.configName === name)?.configValue;
          if (actual !== wanted) onExistingDiffers({ topic, name, wanted, actual });
        }
      }
    }
    return created ? missing : [];
  } finally {
    await admin.disconnect();
  }
}

/** The configuration entries a new topic is created with (exported for the unit test). */
export function topicConfigEntries(topic: string, { minInsyncReplicas, configs = {} }: Pick<EnsureTopicsOptions, "minInsyncReplicas" | "configs">): { name: string; value: string }[] {
  const entries: Record<string, string> = { ...configs[topic] };
  if (minInsyncReplicas !== undefined) entries["min.insync.replicas"] = String(minInsyncReplicas);
  return Object.entries(entries).map(([name, value]) => ({ name, value }));
}

type Admin = ReturnType<Kafka["admin"]>;

/** Poll metadata until every partition of `topics` has a leader, or fail at the deadline. */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = "";
  for (;;) {
    try {
      const { topics: meta } = await admin.fetchTopicMetadata({ topics });
      const leaderless = meta.flatMap((t) =>
        t.partitions.length === 0 ? [`${t.name} (no partitions)`] : t.partitions.filter((p) => p.leader < 0).map((p) => `${t.name}[${p.partitionId}]`),
      );
      if (leaderless.length === 0) return;
      lastProblem = `no leader yet for ${leaderless.join(", ")}`;
    } catch (err) {
      lastProblem = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() >= deadline) throw new Error(`topics not ready within ${timeoutMs} ms: ${lastProblem}`);
    // Leader election on a live cluster takes tens of milliseconds; poll gently.
    await new Promise((r) => setTimeout(r, 100));
  }
}
