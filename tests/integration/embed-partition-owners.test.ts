import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Partitioners } from "kafkajs";
import { afterAll, describe, expect, inject, it } from "vitest";
import { createKafka } from "../../lib/kafka/client";
import { ensureTopics } from "../../lib/kafka/topics";
import { createLogger } from "../../lib/log";
import { ParquetSink } from "../../lib/parquet";
import { PartitionOwners } from "../../workers/embed/partition-owners";
import { isFenced } from "../../lib/kafka/errors";
import { unique } from "../harness/unique";

// PartitionOwners.takeOver against the real broker: the previous owner of a
// partition must be fenced *before* the committed offset is read and the
// uncommitted Parquet files are deleted — a worker that lost its session without
// noticing, or a transaction caught mid-commit by kill -9, must not commit after.

const log = createLogger("partition-owners-test", "warn");
const kafka = createKafka({ clientId: "partition-owners-test", brokers: inject("kafkaBrokers"), log });
const admin = kafka.admin();
const dirs: string[] = [];
afterAll(async () => {
  await admin.disconnect();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("PartitionOwners.takeOver", () => {
  it("fences the previous owner's open transaction, then reads the committed offset and drops files past it", async () => {
    const [input, output, group] = [unique("po-in"), unique("po-out"), unique("po-group")];
    await ensureTopics(kafka, [input, output], 1);
    await admin.connect();
    const dir = mkdtempSync(path.join(os.tmpdir(), "partition-owners-"));
    dirs.push(dir);
    const sink = new ParquetSink(dir, true);
    await sink.init();
    const owners = new PartitionOwners(kafka, admin, group, sink, log);

    // The previous owner: same transactional id, a transaction open with output and offsets, and its unit's file renamed.
    const previous = kafka.producer({ transactionalId: owners.transactionalId(input, 0), idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await previous.connect();
    const tx = await previous.transaction();
    await tx.send({ topic: output, messages: [{ value: "previous owner's record" }] });
    await tx.sendOffsets({ consumerGroupId: group, topics: [{ topic: input, partitions: [{ partition: 0, offset: "5" }] }] });
    const row = { topic: null, text: "t", doc_id: "d", vector: [1, 0], kafka_ts: null, embedded_ts: 1, model: "m", dim: 2, normalized: false, source_partition: 0, source_offset: "0" };
    await sink.write({ topic: input, partition: 0, firstOffset: 0n, lastOffset: 4n }, [row]);

    const committed = await owners.takeOver(input, 0);
    expect(committed).toBe(-1n);
    expect(readdirSync(dir).filter((f) => f.endsWith(".parquet"))).toEqual([]);
    const err = await tx.commit().then(() => undefined, (e: unknown) => e);
    expect(isFenced(err)).toBe(true);

    await previous.disconnect();
    await owners.closeAll();
    await sink.close();
  });
});
