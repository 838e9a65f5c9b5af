import { Partitioners, type Admin, type Kafka } from "kafkajs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createKafka } from "../../lib/kafka/client";
import { closeReadableCount, countReadable } from "../../lib/kafka/readable-count";
import { createLogger } from "../../lib/log";
import { createTopics } from "../harness/kafka-topics";
import { unique } from "../harness/unique";
import { waitFor } from "../harness/wait-for";

// Lag in records, not offsets, on the real broker: transaction markers and
// aborted transactions count 0; a group with no commits counts from the log
// start; what the console's lag stream reports per group.

const brokers = inject("kafkaBrokers");
// The console reads its brokers from the environment (lib/config/console.ts).
process.env.KAFKA_BOOTSTRAP_SERVERS ??= brokers.join(",");
const kafka: Kafka = createKafka({ clientId: "lag-test", brokers, log: createLogger("lag-test", "error") });
const topic = unique("lag");
let admin: Admin;

/** Write `values` to `partition`: in one transaction (committed or aborted), or plainly. */
async function write(partition: number, values: string[], mode: "commit" | "abort" | "plain"): Promise<void> {
  const producer =
    mode === "plain"
      ? kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 })
      : kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, transactionalId: unique("lag-tx"), idempotent: true, maxInFlightRequests: 1 });
  const before = (await ends()).get(partition) ?? 0n;
  await producer.connect();
  try {
    const messages = values.map((value) => ({ partition, value }));
    if (mode === "plain") {
      await producer.send({ topic, messages });
      return;
    }
    const tx = await producer.transaction();
    await tx.send({ topic, messages });
    await (mode === "commit" ? tx.commit() : tx.abort());
    // The coordinator writes the marker after answering the commit or abort.
    const end = before + BigInt(values.length) + 1n;
    await waitFor(`the ${mode} marker of ${topic}/${partition} at ${end - 1n}`, async () => (await ends()).get(partition) === end);
  } finally {
    await producer.disconnect();
  }
}

const ends = async () => new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high)]));
const count = (partition: number, from: bigint, to: bigint) => countReadable(kafka, topic, partition, from, to);

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  await createTopics(kafka, [topic], 3);
});

afterAll(async () => {
  await closeReadableCount(kafka);
  await admin.disconnect();
});

describe("records a read_committed consumer would still get (lib/kafka/readable-count.ts)", () => {
  // Partition 0: a committed transaction of 5 (offsets 0–4, marker 5), an
  // aborted one of 3 (6–8, marker 9), a committed one of 2 (10–11, marker 12).
  // Partition 1: empty. Partition 2: 4 records from a plain producer.
  it("counts markers and aborted data as 0, and records after a marker exactly", async () => {
    await write(0, ["a", "b", "c", "d", "e"], "commit");
    expect((await ends()).get(0)).toBe(6n);
    const caughtUpAtMarker = await count(0, 5n, 6n);
    expect(caughtUpAtMarker).toEqual({ records: 0, exact: true });
    expect(await count(0, 0n, 6n)).toEqual({ records: 5, exact: true });
    expect(await count(0, 3n, 6n)).toEqual({ records: 2, exact: true });

    await write(0, ["x", "y", "z"], "abort");
    expect((await ends()).get(0)).toBe(10n);
    expect(await count(0, 5n, 10n)).toEqual({ records: 0, exact: true });

    await write(0, ["f", "g"], "commit");
    expect((await ends()).get(0)).toBe(13n);
    const table: [bigint, number][] = [[0n, 7], [5n, 2], [10n, 2], [11n, 1], [12n, 0], [13n, 0]];
    for (const [from, records] of table) expect([from, await count(0, from, 13n)]).toEqual([from, { records, exact: true }]);
  });

  it("counts an empty partition and a plain producer's records", async () => {
    expect((await ends()).get(1)).toBe(0n);
    expect(await count(1, 0n, 0n)).toEqual({ records: 0, exact: true });
    await write(2, ["1", "2", "3", "4"], "plain");
    expect(await count(2, 0n, 4n)).toEqual({ records: 4, exact: true });
    expect(await count(2, 1n, 4n)).toEqual({ records: 3, exact: true });
    expect(await count(2, 4n, 4n)).toEqual({ records: 0, exact: true });
  });

  it("reports a gap over 1,000 offsets as the offset gap, flagged approximate", async () => {
    expect(await count(2, 0n, 5_000n)).toEqual({ records: 5_000, exact: false });
  });
});

describe("the console's lag stream (lib/upstreams/lag.ts)", () => {
  it("gives each partition its lag in records, 0 and caught up at a commit marker, and counts a group with no commits from the log start", async () => {
    const { lagPoll } = await import("../../lib/upstreams/lag");
    const poll = lagPoll();
    const group = unique("lag-group");
    const groupOf = async () => {
      const event = await poll();
      if ("error" in event) throw new Error(event.message);
      return event.groups.find((g) => g.group === group);
    };

    // Committed where the old embed-worker stopped: at partition 0's last commit marker.
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: "12" }, { partition: 2, offset: "1" }] });
    let g = await groupOf();
    const lagOf = (partition: number) => g!.topics[0]!.partitions.find((p) => p.partition === partition);
    expect(lagOf(0)).toMatchObject({ committed: 12, end: 13, lag: 0, exact: true });
    expect(lagOf(2)).toMatchObject({ committed: 1, end: 4, lag: 3, exact: true });
    expect(g).toMatchObject({ lag: 3, caught_up: false });

    // Nothing consumed since the last poll: records wait, nothing drains them.
    g = await groupOf();
    expect(g).toMatchObject({ lag: 3, caught_up: false, consume_rate: 0, drain_sec: null });

    // The group consumed the rest: caught up, nothing left to drain; the rate counts records (3), not offsets.
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: "13" }, { partition: 2, offset: "4" }] });
    g = await groupOf();
    expect(g).toMatchObject({ lag: 0, caught_up: true, drain_sec: 0 });
    expect(g!.consume_rate).toBeGreaterThan(0);

    // A group that never committed counts from the log start.
    const fresh = unique("lag-fresh");
    await admin.setOffsets({ groupId: fresh, topic, partitions: [{ partition: 1, offset: "0" }] });
    await admin.resetOffsets({ groupId: fresh, topic, earliest: true });
    const event = await poll();
    if ("error" in event) throw new Error(event.message);
    const f = event.groups.find((x) => x.group === fresh);
    expect(f?.lag).toBe(7 + 0 + 4);
  });
});
