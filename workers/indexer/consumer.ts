import type { Consumer, EachBatchPayload, Kafka } from "kafkajs";
import { dimensionMismatch } from "../../lib/embedding/registry";
import type { IncomingRecord, VectorIndex } from "../../lib/index/vector-index";
import type { Logger } from "../../lib/log";
import { embeddingRecordSchema } from "../../lib/records/embedding-record";
import type { IndexerMetrics } from "./metrics";
import type { ReddbMirror } from "./mirror";

export interface IndexConsumerOptions {
  kafka: Kafka;
  topic: string;
  groupId: string;
  index: VectorIndex;
  metrics: IndexerMetrics;
  log: Logger;
  mirror?: ReddbMirror;
  /** Aborted at shutdown: a mirror write waiting out an outage gives up. */
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
    for (const partition of payload.memberAssignment[topic] ?? []) {
      const offset = index.nextOffset(topic, partition) ?? firstOffsets.get(partition) ?? 0;
      consumer.seek({ topic, partition, offset: String(offset) });
    }
    log.info({ topic, partitions: payload.memberAssignment[topic] ?? [] }, "partitions assigned; resuming at the index's stored offsets");
  });

  const refusedOnce = new Set<string>();
  await consumer.run({
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat, isRunning, isStale }: EachBatchPayload) => {
      if (!isRunning() || isStale() || batch.messages.length === 0) return;
      const started = performance.now();
      const records: IncomingRecord[] = [];
      for (const message of batch.messages) {
        const record = decode(message.value);
        if (record) records.push({ offset: Number(message.offset), record });
        else {
          metrics.invalidRecords++;
          log.warn({ topic, partition: batch.partition, offset: message.offset }, "not an embedding record; skipped");
        }
      }
      const nextOffset = Number(batch.lastOffset()) + 1;
      const plan = index.plan(topic, batch.partition, records, nextOffset);
      if (opts.mirror && plan.puts.length > 0) {
        await opts.mirror.send(plan.puts, opts.signal);
        metrics.mirrored += plan.puts.length;
      }
      if (!isRunning() || isStale()) return;
      const result = index.commit(plan);

      metrics.recordsIn += batch.messages.length;
      metrics.batches++;
      metrics.inserted += result.inserted;
      metrics.updated += result.updated;
      metrics.evicted += result.evicted;
      metrics.alreadyApplied += plan.alreadyApplied;
      metrics.zeroVectors += plan.zeroVectors;
      metrics.refusedDim += plan.refused.length;
      metrics.lastBatchTs = Date.now();
      metrics.lastBatchMs = Math.round(performance.now() - started);
      metrics.lag.set(batch.partition, Math.max(0, Number(batch.highWatermark) - nextOffset));
      for (const r of plan.refused) {
        // One line per model and dimension, not one per record.
        const what = `${r.model}/${r.dim}`;
        if (refusedOnce.has(what)) continue;
        refusedOnce.add(what);
        const line = dimensionMismatch({ component: "the index", storedDim: index.dim ?? r.dim, model: r.model, modelDim: r.dim, fix: "its records are skipped; index that model in its own indexer (another INDEX_DIR and INDEXER_GROUP)" });
        log.error({ topic, partition: batch.partition, model: r.model, dim: r.dim, indexDim: index.dim }, line ?? "dimension mismatch");
      }
      log.debug({ topic, partition: batch.partition, count: batch.messages.length, ...result, changes: undefined, durationMs: metrics.lastBatchMs }, "batch indexed");

      resolveOffset(batch.lastOffset());
      await commitOffsetsIfNecessary();
      await heartbeat();
    },
  });
  return consumer;
}

function decode(value: Buffer | null): IncomingRecord["record"] | undefined {
  if (!value) return undefined;
  try {
    const parsed = embeddingRecordSchema.safeParse(JSON.parse(value.toString("utf8")));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
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
