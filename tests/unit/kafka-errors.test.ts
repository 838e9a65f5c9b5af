import kafkajs from "kafkajs";
import { describe, expect, it } from "vitest";
import { isFenced, isOutage, isProducerStateLost, isRebalance, isTooLarge } from "@/lib/kafka/errors";

const { KafkaJSConnectionError, KafkaJSNonRetriableError, KafkaJSProtocolError } = kafkajs;
// kafkajs' typings omit the retry details its constructor reads.
const RetriesExceeded = kafkajs.KafkaJSNumberOfRetriesExceeded as unknown as new (cause: Error, details: { retryCount: number; retryTime: number }) => Error;
const protocolError = (message: string, type: string, retriable: boolean) => new KafkaJSProtocolError(Object.assign(new Error(message), { type, retriable }));

describe("isOutage: what every worker waits out (start-up included)", () => {
  it.each<[string, unknown, boolean]>([
    ["a refused connection", Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9092"), { code: "ECONNREFUSED" }), true],
    ["kafkajs' connection error", new KafkaJSConnectionError("Connection error: connect ECONNREFUSED"), true],
    ["retries exhausted on a connection error", new RetriesExceeded(new KafkaJSConnectionError("Connection timeout"), { retryCount: 5, retryTime: 3000 }), true],
    ["kafkajs giving up on a non-retriable error", new KafkaJSNonRetriableError(new Error("Invalid partitions")), false],
    ["a timeout", Object.assign(new Error("The operation was aborted due to timeout"), { name: "TimeoutError" }), true],
    ["a protocol error kafkajs calls retriable", protocolError("There is no leader for this topic-partition", "LEADER_NOT_AVAILABLE", true), true],
    ["a protocol error that is not", protocolError("Not authorized to access topics", "TOPIC_AUTHORIZATION_FAILED", false), false],
    ["a plain bug", new TypeError("cannot read properties of undefined"), false],
    ["not an error at all", "boom", false],
  ])("%s → %s", (_what, err, transient) => {
    expect(isOutage(err)).toBe(transient);
  });
});

describe("what a Kafka error says about the records", () => {
  const wrapped = (type: string) => new RetriesExceeded(protocolError(type, type, false), { retryCount: 5, retryTime: 3000 });

  it.each<[string, (err: unknown) => boolean]>([
    ["MESSAGE_TOO_LARGE", isTooLarge],
    ["RECORD_LIST_TOO_LARGE", isTooLarge],
    ["PRODUCER_FENCED", isFenced],
    ["INVALID_PRODUCER_EPOCH", isProducerStateLost],
    ["UNKNOWN_MEMBER_ID", isRebalance],
  ])("%s, however deep kafkajs wrapped it", (type, check) => {
    expect(check(wrapped(type))).toBe(true);
    expect(isOutage(wrapped(type))).toBe(false);
  });

  it("no refusal of the records is read as an outage, and no outage as a refusal", () => {
    const outage = new KafkaJSConnectionError("Connection error");
    for (const check of [isTooLarge, isFenced, isProducerStateLost, isRebalance]) expect(check(outage)).toBe(false);
    expect(isOutage(wrapped("NOT_COORDINATOR"))).toBe(true);
  });
});
