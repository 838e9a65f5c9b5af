import type { Consumer, EachBatchPayload, Kafka } from "kafkajs";
import type { VectorIndex } from "../../lib/index/vector-index";
import { indexerAssigner, type IndexerMember } from "../../lib/kafka/indexer-group";
import type { Logger } from "../../lib/log";
import { BatchRunner } from "./batch-runner";
import type { DeadLetters } from "./dead-letters";
import type { PartitionHealth } from "./health";
import type { IndexerMetrics } from "./metrics";
import type { ReddbMirror } from "./mirror";
import type { PartitionOwnership } from "./ownership";

export interface IndexConsumerOptions {
  kafka: Kafka;
  topic: string;
  groupId: string;
  /** INDEXER_SESSION_TIMEOUT_SEC: how long a silent member keeps its partitions. */
  sessionTimeoutMs?: number;
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
  /** Who this instance is and where it answers, advertised in the group's member metadata. */
  member: IndexerMember;
  /** The partitions this member owns and how far it is with each. */
  ownership: PartitionOwnership;
}

/**
 * Consume embedding records into the index, as one member of the indexers'
 * group (lib/kafka/indexer-group.ts: each partition to one instance, stable
 * across restarts). At each assignment, partitions this member no longer owns
 * (or that the index holds without this member owning them, e.g. moved away
 * while it was down) are released from the index: their next owner has them,
 * and should they come back here they are rebuilt from the topic.
 *
 * The index's LMDB store, not the group's committed offsets, says where to
 * resume: each assigned partition is moved to the offset stored with the data
 * it describes (or to its first offset when the index never applied it: a
 * partition new to this member, or after ./data/index was deleted). Group
 * offsets are still committed after each batch, so lag shows in Kafka's own
 * tools.
 */
export async function startIndexConsumer(opts: IndexConsumerOptions): Promise<Consumer> {
  const { kafka, topic, index, metrics, log, ownership } = opts;
  const firstOffsets = await lowWatermarks(kafka, topic);
  const consumer = kafka.consumer({
    groupId: opts.groupId,
    // Every indexer offers only this assigner: the group refuses a member that
    // offers none of the others' protocols, so an indexer of an older release
    // (round robin) cannot join a group of these, and vice versa.
    partitionAssigners: [indexerAssigner(opts.member)],
    // A killed instance's partitions move after the session timeout; three heartbeats fit in it (kafkajs: 30 s, every 3 s).
    sessionTimeout: opts.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: Math.min(3_000, Math.floor((opts.sessionTimeoutMs ?? 30_000) / 3)),
    readUncommitted: false,
    // Short long-polls keep stop() quick; an idle indexer costs a few fetches a second.
    maxWaitTimeInMs: 500,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });

  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    const assigned = [...(payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
    opts.health.retain(assigned);
    // Synchronous, before any fetch of the new generation: no batch of a
    // released partition can be applied after it (the runner also checks
    // ownership right before each commit).
    const revoked = ownership.assign(assigned);
    // Released in the background, in steps that hand the event loop back (a
    // partition of a few hundred thousand documents takes minutes): this
    // listener returns at once and the member keeps heartbeating. The documents
    // are out of answers and the stored offset gone from the release's first,
    // synchronous, step. Also finished here: a release a stop interrupted.
    const release = new Set([...revoked, ...index.partitionsHeld(topic).filter((p) => !assigned.includes(p)), ...index.releasing(topic)]);
    for (const partition of [...release].sort((a, b) => a - b)) {
      const started = performance.now();
      metrics.lag.delete(partition);
      // A partition assigned back while its release runs waits for it (its batches are refused until then), then is rebuilt from the topic.
      const back = assigned.includes(partition);
      if (back) consumer.pause([{ topic, partitions: [partition] }]);
      index.releasePartition(topic, partition, { signal: opts.signal }).then(
        (documents) => {
          metrics.released += documents;
          log.info({ topic, partition, documents, durationMs: Math.round(performance.now() - started) }, "partition released: no longer this indexer's; its documents left the index");
          if (back) consumer.resume([{ topic, partitions: [partition] }]);
        },
        (err: Error) => {
          // The index still lists it (releasing), its documents stay out of answers, and the next assignment (or start) tries again.
          if (opts.signal.aborted) return;
          log.error({ topic, partition, err: { message: err.message } }, "releasing a partition failed; tried again at the next assignment");
        },
      );
    }
    for (const partition of assigned) {
      const offset = index.nextOffset(topic, partition) ?? firstOffsets.get(partition) ?? 0;
      consumer.seek({ topic, partition, offset: String(offset) });
    }
    log.info({ topic, instance: opts.member.instance, partitions: assigned, released: [...release] }, "partitions assigned; resuming at the index's stored offsets");
    void partitionEnds(kafka, topic).then(
      (ends) => {
        for (const p of assigned) {
          const end = ends.get(p);
          if (end !== undefined) ownership.setEnd(p, end);
        }
      },
      (err: Error) => log.warn({ topic, err: { message: err.message } }, "could not read the partitions' ends; they show as loading until read"),
    );
  });
  // A fetch of only transaction markers (every transaction of the embed-worker
  // ends with one) never reaches eachBatch: kafkajs resolves past it and says
  // so here. It moves the consumer to the partition's end, which is what a
  // partition loading from the topic waits for.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.topic === topic && payload.batchSize === 0 && payload.firstOffset !== null) ownership.reached(payload.partition, Number(payload.lastOffset) + 1);
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
      // The end as of this first fetch, should reading the ends at assignment have failed (taken only while unknown).
      ownership.setEnd(batch.partition, Number(batch.highWatermark));
      const started = performance.now();
      const nextOffset = Number(batch.lastOffset()) + 1;
      const stillOurs = () => isRunning() && !isStale() && !opts.signal.aborted && ownership.owns(batch.partition);
      // Every record ends indexed or dead-lettered (another model's included);
      // false: the partition was revoked or the process stops mid-way (the next owner re-reads).
      if (!(await runner.run({ partition: batch.partition, messages: batch.messages, nextOffset }, { stillOurs, heartbeat }))) return;

      metrics.recordsIn += batch.messages.length;
      metrics.stage.observe(batch.messages.map((m) => m.timestamp));
      metrics.batches++;
      metrics.lastBatchTs = Date.now();
      metrics.lastBatchMs = Math.round(performance.now() - started);
      metrics.lag.set(batch.partition, Math.max(0, Number(batch.highWatermark) - nextOffset));
      ownership.reached(batch.partition, nextOffset);
      log.debug({ topic, partition: batch.partition, count: batch.messages.length, durationMs: metrics.lastBatchMs }, "batch indexed");

      resolveOffset(batch.lastOffset());
      await commitOffsetsIfNecessary();
      await heartbeat();
    },
  });
  return consumer;
}

/** End of each partition of `topic` now (the high watermark; read_committed consumers see up to the last stable offset). */
async function partitionEnds(kafka: Kafka, topic: string): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  } finally {
    await admin.disconnect();
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
