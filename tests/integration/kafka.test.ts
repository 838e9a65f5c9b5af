import { Partitioners, type Consumer, type ConsumerConfig, type Kafka, type KafkaMessage, type Producer, type ProducerConfig } from "kafkajs";
import { afterEach, describe, expect, inject, it } from "vitest";
import { createKafka } from "../../lib/kafka/client";
import { ensureTopics } from "../../lib/kafka/topics";
import { createLogger } from "../../lib/log";
import { isFenced, isTooLarge } from "../../lib/kafka/errors";
import { TopicLimits, fitsAlone, recordBytes } from "../../lib/kafka/record-limits";
import { readTopic } from "../harness/read-topic";
import { unique } from "../harness/unique";
import { waitFor } from "../harness/wait-for";

// kafkajs 2.2.4 against the broker the global setup started (Kafka 4.x from
// scripts/kafka/pom.xml) or the cluster in KAFKA_BOOTSTRAP_SERVERS. Every test uses
// topics and groups of its own, so reruns against the same cluster never collide.

const brokers = inject("kafkaBrokers");
const log = createLogger("kafka-test", "warn");
const kafka = createKafka({ clientId: "kafka-test", brokers, log });

/** The offset to commit after `offset`: Kafka commits the next record to read. */
const next = (offset: string) => (BigInt(offset) + 1n).toString();

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function connectedProducer(client: Kafka = kafka, config: ProducerConfig = {}): Promise<Producer> {
  // kafkajs 2's default (Java-compatible murmur2) partitioner, named to skip its warning.
  const producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner, ...config });
  cleanups.push(() => producer.disconnect());
  await producer.connect();
  return producer;
}

async function connectedConsumer(config: ConsumerConfig, client: Kafka = kafka): Promise<Consumer> {
  // disconnect() waits out a fetch in flight; with kafkajs's 5 s long poll every test
  // would spend seconds per consumer just stopping it.
  const consumer = client.consumer({ maxWaitTimeInMs: 250, ...config });
  cleanups.push(() => consumer.disconnect());
  await consumer.connect();
  return consumer;
}

async function withAdmin<T>(fn: (admin: ReturnType<Kafka["admin"]>) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Committed offset of `groupId` per partition of `topic` ("-1" when none). */
async function committedOffsets(groupId: string, topic: string): Promise<Record<number, string>> {
  const [entry] = await withAdmin((admin) => admin.fetchOffsets({ groupId, topics: [topic] }));
  return Object.fromEntries((entry?.partitions ?? []).map((p) => [p.partition, p.offset]));
}

interface Seen {
  partition: number;
  offset: string;
  key: string;
  value: string;
}

const seen = (partition: number, m: KafkaMessage): Seen => ({
  partition,
  offset: m.offset,
  key: m.key?.toString() ?? "",
  value: m.value?.toString() ?? "",
});

describe("kafkajs 2.2.4 against the test cluster", () => {
  it("produces records and a consumer reads every one back, keys and headers intact", async () => {
    const topic = unique("produce");
    await ensureTopics(kafka, [topic], 3);
    // Idempotent, as every producer of the product is: right after a topic is
    // created the broker may still answer "not the leader" for one partition,
    // and kafkajs then re-sends the whole request — a plain producer wrote the
    // partitions that had succeeded twice (48 records for 30 in one CI run).
    const producer = await connectedProducer(kafka, { idempotent: true });
    const sent = Array.from({ length: 30 }, (_, i) => ({ key: `doc-${i}`, value: JSON.stringify({ i }), headers: { seq: String(i) } }));
    await producer.send({ topic, acks: -1, messages: sent });

    const consumer = await connectedConsumer({ groupId: unique("reader") });
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const got: { partition: number; key: string; value: string; seq: string }[] = [];
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        got.push({ partition, key: message.key!.toString(), value: message.value!.toString(), seq: String(message.headers?.seq) });
      },
    });
    await waitFor("30 records consumed", () => got.length >= 30, 60_000, 50);

    const byKey = (a: { key: string }, b: { key: string }) => a.key.localeCompare(b.key);
    expect(got.map(({ key, value, seq }) => ({ key, value, seq })).sort(byKey)).toEqual(
      sent.map(({ key, value, headers }) => ({ key, value, seq: headers.seq })).sort(byKey),
    );
    // The default partitioner spreads 30 keys over all 3 partitions.
    expect(new Set(got.map((r) => r.partition))).toEqual(new Set([0, 1, 2]));
  });

  it("splits partitions between two members of a group, and committed offsets survive them", async () => {
    const topic = unique("group");
    const groupId = unique("group");
    const partitions = 4;
    await ensureTopics(kafka, [topic], partitions);

    const members = await Promise.all(
      [0, 1].map(async () => {
        // Heartbeats every 500 ms so the first member hears of the rebalance quickly.
        const consumer = await connectedConsumer({ groupId, heartbeatInterval: 500, sessionTimeout: 10_000 });
        const member = { consumer, assigned: [] as number[], got: [] as Seen[] };
        consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
          member.assigned = [...(payload.memberAssignment[topic] ?? [])].sort();
        });
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: async ({ batch, resolveOffset }) => {
            for (const m of batch.messages) {
              member.got.push(seen(batch.partition, m));
              resolveOffset(m.offset);
            }
            // Offsets move only after the work is done, as the workers do it.
            await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next(batch.lastOffset()) }]);
          },
        });
        return member;
      }),
    );

    await waitFor(
      "both members to hold a disjoint share of all partitions",
      () => {
        const [a, b] = members.map((m) => m.assigned);
        if (!a?.length || !b?.length) return false;
        const all = [...a, ...b].sort();
        return all.length === partitions && all.every((p, i) => p === i);
      },
      60_000,
      50,
    );

    const producer = await connectedProducer();
    const perPartition = 10;
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: partitions * perPartition }, (_, i) => ({ partition: i % partitions, key: `k${i}`, value: `v${i}` })),
    });
    await waitFor("all 40 records consumed by the group", () => members.reduce((n, m) => n + m.got.length, 0) >= partitions * perPartition, 60_000, 50);

    for (const m of members) {
      expect(m.got.length).toBeGreaterThan(0);
      expect([...new Set(m.got.map((r) => r.partition))].sort()).toEqual(m.assigned);
    }
    const allValues = members.flatMap((m) => m.got.map((r) => r.value)).sort();
    expect(allValues).toEqual(Array.from({ length: partitions * perPartition }, (_, i) => `v${i}`).sort());

    const expected = Object.fromEntries(Array.from({ length: partitions }, (_, p) => [p, String(perPartition)]));
    await waitFor("the group's commits to reach the broker", async () => JSON.stringify(await committedOffsets(groupId, topic)) === JSON.stringify(expected), 30_000, 100);
    await Promise.all(members.map((m) => m.consumer.disconnect()));

    // A new member of the same group resumes at the committed offsets: it reads only
    // what was produced after, never the 40 records already handled.
    const successor = await connectedConsumer({ groupId });
    await successor.subscribe({ topics: [topic], fromBeginning: true });
    const later: Seen[] = [];
    await successor.run({ eachMessage: async ({ partition, message }) => void later.push(seen(partition, message)) });
    await producer.send({ topic, acks: -1, messages: Array.from({ length: partitions }, (_, partition) => ({ partition, value: `after-${partition}` })) });
    await waitFor("the successor to read the new records", () => later.length >= partitions, 60_000, 50);
    expect(later.map((r) => [r.partition, r.offset, r.value]).sort()).toEqual(
      Array.from({ length: partitions }, (_, p) => [p, String(perPartition), `after-${p}`]),
    );
  });

  it("consume-transform-produce in transactions: a read_committed reader sees each output exactly once, even after a failed attempt", async () => {
    const input = unique("tx-in");
    const output = unique("tx-out");
    const groupId = unique("tx-worker");
    const partitions = 2;
    const count = 20;
    await ensureTopics(kafka, [input, output], partitions);

    // Idempotent: a retried send must not duplicate the input this test counts.
    const plain = await connectedProducer(kafka, { idempotent: true, maxInFlightRequests: 1 });
    await plain.send({ topic: input, acks: -1, messages: Array.from({ length: count }, (_, i) => ({ partition: i % partitions, key: `d${i}`, value: `${i}` })) });

    // The failed attempt below throws on purpose; its kafkajs error line is expected noise.
    const quietKafka = createKafka({ clientId: "kafka-test-tx", brokers, log: createLogger("kafka-test-tx", "fatal") });
    const txProducer = await connectedProducer(quietKafka, { transactionalId: unique("tx"), idempotent: true, maxInFlightRequests: 1 });
    const worker = await connectedConsumer({ groupId, readUncommitted: false }, quietKafka);
    await worker.subscribe({ topics: [input], fromBeginning: true });
    let attempts = 0;
    await worker.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        if (!isRunning() || isStale() || batch.isEmpty()) return;
        attempts += 1;
        const tx = await txProducer.transaction();
        try {
          await tx.send({ topic: output, messages: batch.messages.map((m) => ({ key: m.key, value: `embedded:${m.value?.toString()}` })) });
          // The first attempt dies after writing its output, before committing: a
          // crash mid-batch. kafkajs redelivers the batch; the output must not double.
          if (attempts === 1) throw new Error("simulated crash before commit");
          await tx.sendOffsets({
            consumerGroupId: groupId,
            topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next(batch.lastOffset()) }] }],
          });
          await tx.commit();
        } catch (err) {
          await tx.abort();
          throw err;
        }
        for (const m of batch.messages) resolveOffset(m.offset);
        await heartbeat();
      },
    });

    const inputEnds = await withAdmin((admin) => admin.fetchTopicOffsets(input));
    const expectedOffsets = Object.fromEntries(inputEnds.map((p) => [p.partition, p.high]));
    await waitFor(
      "the worker's transactions to commit its group offsets (sendOffsets)",
      async () => JSON.stringify(await committedOffsets(groupId, input)) === JSON.stringify(expectedOffsets),
      60_000,
      100,
    );
    await worker.disconnect();
    expect(attempts).toBeGreaterThan(1);

    const expected = Array.from({ length: count }, (_, i) => `embedded:${i}`).sort();
    const committed = await readTopic(kafka, output);
    expect(committed.map((r) => r.value).sort()).toEqual(expected);
    // The aborted first attempt is really in the log: a read_uncommitted reader sees
    // it as duplicates, so the exactly-once view above is the isolation level's work.
    const everything = await readTopic(kafka, output, { readUncommitted: true });
    expect(everything.length).toBeGreaterThan(count);
    expect(new Set(everything.map((r) => r.value))).toEqual(new Set(expected));
  });

  it("an aborted transaction is never seen by a read_committed consumer", async () => {
    const topic = unique("tx-abort");
    const partitions = 2;
    await ensureTopics(kafka, [topic], partitions);
    const producer = await connectedProducer(kafka, { transactionalId: unique("tx"), idempotent: true, maxInFlightRequests: 1 });

    const before = await producer.transaction();
    await before.send({ topic, messages: [0, 1].map((partition) => ({ partition, value: `committed-before-${partition}` })) });
    await before.commit();

    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: Array.from({ length: 6 }, (_, i) => ({ partition: i % partitions, value: `aborted-${i}` })) });
    await aborted.abort();

    const after = await producer.transaction();
    await after.send({ topic, messages: [0, 1].map((partition) => ({ partition, value: `committed-after-${partition}` })) });
    await after.commit();

    const committed = await readTopic(kafka, topic);
    expect(committed.map((r) => r.value).sort()).toEqual(["committed-after-0", "committed-after-1", "committed-before-0", "committed-before-1"]);
    const everything = await readTopic(kafka, topic, { readUncommitted: true });
    expect(everything.filter((r) => r.value.startsWith("aborted-"))).toHaveLength(6);
  });

  // What kill -9 of the embed-worker leaves behind: several per-partition
  // producers fenced at once, their open transactions interleaved on the same
  // output partition and aborted in an order unrelated to where they started.
  // The broker lists aborted transactions in the order they were aborted, not by
  // first offset; kafkajs 2.2.4 assumed the latter and let such records through
  // (patches/kafkajs+2.2.4.patch sorts them as the Java consumer does).
  it("overlapping aborted transactions, aborted last-started first, are never seen by a read_committed consumer", async () => {
    const topic = unique("tx-abort-overlap");
    await ensureTopics(kafka, [topic], 1);
    const a = await connectedProducer(kafka, { transactionalId: unique("tx-a"), idempotent: true, maxInFlightRequests: 1 });
    const b = await connectedProducer(kafka, { transactionalId: unique("tx-b"), idempotent: true, maxInFlightRequests: 1 });

    const txA = await a.transaction();
    const txB = await b.transaction();
    await txA.send({ topic, messages: [{ partition: 0, value: "aborted-a-1" }] });
    await txB.send({ topic, messages: [{ partition: 0, value: "aborted-b-1" }] });
    await txA.send({ topic, messages: [{ partition: 0, value: "aborted-a-2" }] });
    // abort() returns once the abort is logged; its marker lands a moment later,
    // and must land before a's for the broker to list b first. A read_uncommitted
    // consumer's fetches cover it (offset 3, after a-1, b-1, a-2) once it is written.
    const watcher = await connectedConsumer({ groupId: unique("tx-watch"), readUncommitted: true });
    let covered = -1n;
    watcher.on(watcher.events.END_BATCH_PROCESS, ({ payload }) => void (covered = BigInt(payload.lastOffset) > covered ? BigInt(payload.lastOffset) : covered));
    await watcher.subscribe({ topics: [topic], fromBeginning: true });
    await watcher.run({ eachMessage: async () => undefined });
    await txB.abort();
    await waitFor("b's abort marker at offset 3", () => covered >= 3n, 30_000, 20);
    await txA.abort();

    const after = await a.transaction();
    await after.send({ topic, messages: [{ partition: 0, value: "committed" }] });
    await after.commit();

    const committed = await readTopic(kafka, topic);
    expect(committed.map((r) => r.value)).toEqual(["committed"]);
  });

  // The embed-worker removes its own Parquet file when its commit fails this way
  // (workers/embed/unit-of-work.ts): check kafkajs reports fencing as it expects.
  it("a producer fenced by a newer one with its transactional id fails to commit with an error isFenced recognises", async () => {
    const topic = unique("tx-fenced");
    await ensureTopics(kafka, [topic], 1);
    const transactionalId = unique("tx-fenced-id");
    const old = await connectedProducer(kafka, { transactionalId, idempotent: true, maxInFlightRequests: 1 });
    const tx = await old.transaction();
    await tx.send({ topic, messages: [{ value: "from the old owner" }] });
    const newer = await connectedProducer(kafka, { transactionalId, idempotent: true, maxInFlightRequests: 1 });
    // connect() alone does not fence: kafkajs initialises the transactional id at the first transaction.
    await (await newer.transaction()).abort();
    const err = await tx.commit().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(isFenced(err)).toBe(true);
  });

  it("creates topics idempotently: existing topics are left alone, concurrent creators agree", async () => {
    const a = unique("idem-a");
    const b = unique("idem-b");
    expect(await ensureTopics(kafka, [a], 2)).toEqual([a]);
    const producer = await connectedProducer();
    await producer.send({ topic: a, acks: -1, messages: [{ partition: 1, value: "kept" }] });

    // Asked again with a different partition count: a keeps its 2 partitions and its data.
    expect(await ensureTopics(kafka, [a, b], 5)).toEqual([b]);
    expect(await ensureTopics(kafka, [a, b], 5)).toEqual([]);
    const meta = await withAdmin((admin) => admin.fetchTopicMetadata({ topics: [a, b] }));
    const partitionsOf = (t: string) => meta.topics.find((x) => x.name === t)?.partitions.length;
    expect(partitionsOf(a)).toBe(2);
    expect(partitionsOf(b)).toBe(5);
    const offsets = await withAdmin((admin) => admin.fetchTopicOffsets(a));
    expect(offsets.find((p) => p.partition === 1)?.high).toBe("1");

    // Two starts racing (launcher and a test run): one creates, the other finds it.
    const c = unique("idem-race");
    const results = await Promise.all([ensureTopics(kafka, [c], 3), ensureTopics(kafka, [c], 3)]);
    expect(results.flat()).toEqual([c]);
  });

  it("TopicLimits reads a topic's max.message.bytes, and fitsAlone agrees with what the broker accepts", async () => {
    const topic = unique("limits");
    const limit = 20_000;
    await withAdmin((admin) => admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: [{ name: "max.message.bytes", value: String(limit) }] }] }));
    const limits = await withAdmin((admin) => new TopicLimits(admin).maxMessageBytes(topic));
    expect(limits).toBe(limit);

    const headers = { "x-embedline-replay-count": "1" };
    const overhead = recordBytes({ key: "k", value: "", headers }) + 61;
    const largest = { key: "k", value: "x".repeat(limit - overhead), headers };
    expect(fitsAlone(largest, limit)).toBe(true);
    const producer = await connectedProducer(kafka, { retry: { retries: 0 } });
    await producer.send({ topic, acks: -1, messages: [largest] });

    // The bound is conservative by the varints' slack, never optimistic: well past it the broker refuses.
    const tooLarge = { key: "k", value: "x".repeat(limit), headers };
    expect(fitsAlone(tooLarge, limit)).toBe(false);
    const err = await producer.send({ topic, acks: -1, messages: [tooLarge] }).then(() => undefined, (e: unknown) => e);
    expect(isTooLarge(err)).toBe(true);
  });
});
