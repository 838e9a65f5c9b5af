import type { KafkaMessage } from "kafkajs";
import { describe, expect, it } from "vitest";
import { createLogger } from "@/lib/log";
import { dlqRecordSchema } from "@/lib/records/dlq-record";
import { BatchCommitter, MAX_BATCH_ATTEMPTS, MAX_RECORD_ATTEMPTS, type Plan } from "@/workers/parse/batch-committer";
import { ParseHealth, type ParseHealthReport } from "@/workers/parse/health";
import { ParseMetrics } from "@/workers/parse/metrics";

// The decisions the parse worker takes when a transaction fails, driven by
// the errors kafkajs throws (the integration tests cover the broker's own
// refusals: a limit lowered at run time, a DLQ too small to write to).

const message = (offset: number, text: string): KafkaMessage =>
  ({ offset: String(offset), key: null, value: Buffer.from(JSON.stringify({ id: `doc-${offset}`, text })), timestamp: "1700000000000", attributes: 0, headers: {} }) as KafkaMessage;

const protocolError = (type: string, retriable = false) => Object.assign(new Error(`protocol error ${type}`), { name: "KafkaJSProtocolError", type, retriable });

interface Commit {
  offset: string;
  records: string[];
  dead: { reason: string; offset: string; attempts: number }[];
}

function setup(fail: (plan: Plan, attempt: number) => Error | undefined, limits: number[] = [1_048_588]) {
  const health = new ParseHealth();
  health.process = "ok";
  const metrics = new ParseMetrics();
  const commits: Commit[] = [];
  const seenHealth: ParseHealthReport[] = [];
  const invalidated: string[] = [];
  let reads = 0;
  let attempt = 0;
  let suspects = 0;
  const committer = new BatchCommitter({
    outputTopic: "out",
    dlqTopic: "dlq",
    maxTextBytes: 1_000_000,
    limits: {
      // Successive reads of the output topic's limit take the next value of `limits` (the DLQ keeps 1 MiB).
      maxMessageBytes: async (topic) => (topic === "out" ? limits[Math.min(reads++, limits.length - 1)]! : 1_048_588),
      invalidate: (topic) => void invalidated.push(topic),
    },
    commit: async (plan, _ctx, nextOffset) => {
      seenHealth.push(health.report());
      const err = fail(plan, attempt++);
      if (err) throw err;
      commits.push({
        offset: nextOffset,
        records: plan.records.map((r) => String(r.key)),
        dead: plan.dead.map((d) => {
          const rec = dlqRecordSchema.parse(JSON.parse(d.value));
          return { reason: rec.reason, offset: rec.source.offset, attempts: rec.attempts };
        }),
      });
    },
    producerSuspect: () => void suspects++,
    health,
    metrics,
    log: createLogger("parse-committer-test", "silent"),
    backoffFirstMs: 0,
  });
  const resolved: string[] = [];
  const ctx = { topic: "in", partition: 3, isRunning: () => true, isStale: () => false, heartbeat: async () => {} };
  const run = (messages: KafkaMessage[]) => committer.handle({ topic: "in", partition: 3, messages, lastOffset: () => messages.at(-1)!.offset }, ctx, (o) => void resolved.push(o));
  return { run, commits, resolved, health, seenHealth, invalidated, metrics, suspects: () => suspects };
}

describe("BatchCommitter", () => {
  it("commits a batch in one transaction with the offset after its last message", async () => {
    const s = setup(() => undefined);
    await s.run([message(10, "a"), message(11, "b")]);
    expect(s.commits).toEqual([{ offset: "12", records: ["doc-10", "doc-11"], dead: [] }]);
    expect(s.resolved).toEqual(["11"]);
  });

  it("waits a transient failure out without dead-lettering anything, degraded meanwhile", async () => {
    const down = Object.assign(new Error("Connection error: connect ECONNREFUSED 127.0.0.1:9092"), { name: "KafkaJSConnectionError" });
    const s = setup((_plan, attempt) => (attempt < 5 ? down : undefined));
    await s.run([message(10, "a")]);
    expect(s.commits).toEqual([{ offset: "11", records: ["doc-10"], dead: [] }]);
    expect(s.seenHealth.at(-1)).toMatchObject({ status: "degraded", partitions: [{ topic: "in", partition: 3, offset: "10", reason: expect.stringContaining("Kafka unavailable") }] });
    expect(s.health.report()).toEqual({ status: "ok", partitions: [] });
    expect(s.suspects()).toBe(0);
  });

  it("isolates a batch that keeps failing for an unclassified reason and dead-letters the one record that fails as unprocessable", async () => {
    const poison = (plan: Plan) => plan.records.some((r) => r.key === "doc-11");
    const s = setup((plan) => (poison(plan) ? protocolError("INVALID_RECORD") : undefined));
    await s.run([message(10, "a"), message(11, "poison"), message(12, "c")]);
    expect(s.commits).toEqual([
      { offset: "11", records: ["doc-10"], dead: [] },
      { offset: "12", records: [], dead: [{ reason: "unprocessable", offset: "11", attempts: MAX_BATCH_ATTEMPTS + MAX_RECORD_ATTEMPTS }] },
      { offset: "13", records: ["doc-12"], dead: [] },
    ]);
    expect(s.resolved).toEqual(["10", "11", "12"]);
    // Tried a bounded number of times: 3 as a batch, 3 alone, then the dead letter.
    expect(s.metrics.snapshot()).toMatchObject({ transactions_aborted: MAX_BATCH_ATTEMPTS + MAX_RECORD_ATTEMPTS, dlq_by_reason: { unprocessable: 1 } });
    expect(s.seenHealth.some((h) => h.partitions[0]?.reason.includes("unclassified"))).toBe(true);
    expect(s.suspects()).toBeGreaterThan(0);
    expect(s.health.report().status).toBe("ok");
  });

  it("re-reads the limit after the broker refuses a record as too large, and dead-letters it as too_large", async () => {
    // The first read says 1 MiB; the topic was lowered to 2,000 bytes since.
    const s = setup((plan, attempt) => (attempt === 0 && plan.records.length > 0 ? protocolError("MESSAGE_TOO_LARGE") : undefined), [1_048_588, 2_000]);
    await s.run([message(10, "x".repeat(5_000)), message(11, "small")]);
    expect(s.invalidated).toEqual(expect.arrayContaining(["out", "dlq"]));
    expect(s.commits).toEqual([{ offset: "12", records: ["doc-11"], dead: [{ reason: "too_large", offset: "10", attempts: 1 }] }]);
  });

  it("gives the batch back on a rebalance, committing nothing", async () => {
    const s = setup(() => protocolError("REBALANCE_IN_PROGRESS", true));
    await expect(s.run([message(10, "a")])).rejects.toMatchObject({ type: "REBALANCE_IN_PROGRESS" });
    expect(s.commits).toEqual([]);
    expect(s.resolved).toEqual([]);
    expect(s.health.report().partitions).toEqual([]);
  });

  it("gives kafkajs the rebalance error itself, not the wrapper it came in, so the consumer rejoins instead of crashing", async () => {
    const inner = protocolError("ILLEGAL_GENERATION");
    const s = setup(() => Object.assign(new Error("gave up"), { name: "KafkaJSNonRetriableError", originalError: inner }));
    await expect(s.run([message(10, "a")])).rejects.toBe(inner);
    expect(s.commits).toEqual([]);
  });
});
