import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Admin } from "kafkajs";
import { createKafka } from "../../lib/kafka/client";
import { createLogger } from "../../lib/log";
import { createTopics } from "../harness/kafka-topics";
import { produceTransaction } from "../harness/produce";
import { readTopic } from "../harness/read-topic";
import { unique } from "../harness/unique";
import { waitFor } from "../harness/wait-for";

// The harness's topic reader (tests/harness/read-topic.ts), which every
// exactly-once check rests on, on the real broker.

const brokers = inject("kafkaBrokers");
const kafka = createKafka({ clientId: "read-topic-test", brokers, log: createLogger("read-topic-test", "error") });
let admin: Admin;

const ends = async (topic: string) => (await admin.fetchTopicOffsets(topic)).map((o) => `${o.partition}:${o.high}`);
const values = (records: { partition: number; value: string }[]) => records.map((r) => `${r.partition}:${r.value}`);
/** Open TCP sockets of this process (Node's resource names; stable since Node 17). */
const openSockets = () => process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap").length;

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
});
afterAll(async () => {
  await admin.disconnect();
});

describe("readTopic", () => {
  it("reads a topic whose partitions end in commit and abort markers, again and again, writing nothing to it", async () => {
    const topic = unique("read");
    await createTopics(kafka, [topic], 2);
    // Partition 0 ends in a commit marker, partition 1 in an abort marker
    // after its committed records: no data record sits at either end offset − 1.
    await produceTransaction(kafka, topic, 0, ["a", "b"], "commit");
    await produceTransaction(kafka, topic, 1, ["c"], "commit");
    await produceTransaction(kafka, topic, 1, ["aborted"], "abort");
    const before = await ends(topic);

    expect(values(await readTopic(kafka, topic, { timeoutMs: 30_000 }))).toEqual(["0:a", "0:b", "1:c"]);
    // A read leaves the topic as it was: a worker consuming it sees no records of the test's.
    expect(await ends(topic)).toEqual(before);

    // A second read sees what came since the first, to the new ends.
    await produceTransaction(kafka, topic, 0, ["d"], "commit");
    await produceTransaction(kafka, topic, 1, ["e"], "commit");
    expect(values(await readTopic(kafka, topic, { timeoutMs: 30_000 }))).toEqual(["0:a", "0:b", "0:d", "1:c", "1:e"]);
    expect(values(await readTopic(kafka, topic, { timeoutMs: 30_000 }))).toEqual(["0:a", "0:b", "0:d", "1:c", "1:e"]);
  });

  it("waits for a transaction whose commit has just returned", async () => {
    const topic = unique("read-just-committed");
    await createTopics(kafka, [topic], 1);
    const producer = kafka.producer({ transactionalId: unique("read-tx"), idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const tx = await producer.transaction();
      await tx.send({ topic, messages: [{ key: "k", value: "just committed" }] });
      // The broker writes the commit marker after answering: read at once.
      await tx.commit();
      expect(values(await readTopic(kafka, topic, { timeoutMs: 30_000 }))).toEqual(["0:just committed"]);
    } finally {
      await producer.disconnect();
    }
  });

  it("answers an empty topic at once", async () => {
    const topic = unique("read-empty");
    await createTopics(kafka, [topic], 3);
    expect(await readTopic(kafka, topic, { timeoutMs: 1 })).toEqual([]);
  });

  it("disconnects its consumer when the read fails", async () => {
    const topic = unique("read-fail");
    await createTopics(kafka, [topic], 1);
    await produceTransaction(kafka, topic, 0, ["x"], "commit");
    const socketsBefore = openSockets();

    // 1 ms is over before the consumer's first fetch comes back: the read fails.
    await expect(readTopic(kafka, topic, { timeoutMs: 1 })).rejects.toThrow(/timed out/);
    // A consumer left connected keeps its broker connections open for good.
    await waitFor("the reader's broker connections to close", () => openSockets() <= socketsBefore, 15_000, 50);
  });
});
