import type { Consumer, EachBatchPayload, Kafka } from "kafkajs";
import type { VectorIndex } from "../../lib/index/vector-index";
import type { Logger } from "../../lib/log";
import { BatchRunner } from "./batch-runner";
import type { DeadLetters } from "./dead-letters";
import type { PartitionHealth } from "./health";
import type { IndexerMetrics } from "./metrics";
import type { ReddbMirror } from "./mirror";

export interface IndexConsumerOptions {
  kafka: Kafka;
  topic: string;
  groupId: string;
  index: VectorIndex;
  /** EMBED_MODEL: records of another model (or dimension) than the index holds are dead-lettered as `model_mismatch`. */
  model: string;
  metrics: IndexerMetrics;
  log: Logger;
  mirror?: ReddbMirror;
  /** Where records that can never be indexed go (EMBED_DLQ_TOPIC, stage "index"). */
  deadLetters: DeadLetters;
  /** Partitions not advancing, for /health. */
  health: PartitionHealth;
  /** Aborted at shutdown: a mirror write or a retry waiting out an outage gives up. */
  signal: AbortSignal;
}

/**
 * Consume embedding records into the index. The index's LMDB store, not the
 * group's committed offsets, says where to resume: each assigned partition is
 * moved to the offset stored with the data it describes (or to its first
 * offset when the index never applied it, e.g. after ./data/index was
 * deleted). Group offsets are still committed after each batch, so lag shows
 * in Kafka's own tools.
 */
export async function startIndexConsumer(opts: IndexConsumerOptions): Promise<Consumer> {
  const { kafka, topic, index, metrics, log } = opts;
  const firstOffsets = await lowWatermarks(kafka, topic);
  const consumer = kafka.consumer({
    groupId: opts.groupId,
    readUncommitted: false,
    // Short long-polls keep stop() quick; an idle indexer costs a few fetches a second.
    maxWaitTimeInMs: 500,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });

  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    opts.health.retain(payload.memberAssignment[topic] ?? []);
    for (const partition of payload.memberAssignment[topic] ?? []) {
      const offset = index.nextOffset(topic, partition) ?? firstOffsets.get(partition) ?? 0;
      consumer.seek({ topic, partition, offset: String(offset) });
    }
    log.info({ topic, partitions: payload.memberAssignment[topic] ?? [] }, "partitions assigned; resuming at the index's stored offsets");
  });

  const runner = new BatchRunner({ topic, index, model: opts.model, deadLetters: opts.deadLetters, health: opts.health, metrics, log, mirror: opts.mirror, signal: opts.signal });
  await consumer.run({
    // Commit whatever is resolved at once. It matters for a fetch of only
    // transaction markers or aborted records: kafkajs resolves past it itself
    // and commits only "if necessary" (never, with no interval or threshold),
    // which left the group one offset short of the end on an idle topic.
    autoCommitThreshold: 1,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat, isRunning, isStale }: EachBatchPayload) => {
      if (!isRunning() || isStale() || batch.messages.length === 0) return;
      const started = performance.now();
      const nextOffset = Number(batch.lastOffset()) + 1;
      const stillOurs = () => isRunning() && !isStale() && !opts.signal.aborted;
      // Every record ends indexed or dead-lettered (another model's included);
      // false: the partition was revoked or the process stops mid-way (the next owner re-reads).
      if (!(await runner.run({ partition: batch.partition, messages: batch.messages, nextOffset }, { stillOurs, heartbeat }))) return;

      metrics.recordsIn += batch.messages.length;
      metrics.stage.observe(batch.messages.map((m) => m.timestamp));
      metrics.batches++;
      metrics.lastBatchTs = Date.now();
      metrics.lastBatchMs = Math.round(performance.now() - started);
      metrics.lag.set(batch.partition, Math.max(0, Number(batch.highWatermark) - nextOffset));
      log.debug({ topic, partition: batch.partition, count: batch.messages.length, durationMs: metrics.lastBatchMs }, "batch indexed");

      resolveOffset(batch.lastOffset());
      await commitOffsetsIfNecessary();
      await heartbeat();
    },
  });
  return consumer;
}

/** First offset of each partition of `topic` (where a never-applied partition starts). */
async function lowWatermarks(kafka: Kafka, topic: string): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, Number(o.low)]));
  } finally {
    await admin.disconnect();
  }
}
