import kafkajs from "kafkajs";
import { describe, expect, it } from "vitest";
import { isTransientError } from "@/lib/process/transient";

const { KafkaJSConnectionError, KafkaJSNonRetriableError, KafkaJSProtocolError } = kafkajs;
// kafkajs' typings omit the retry details its constructor reads.
const RetriesExceeded = kafkajs.KafkaJSNumberOfRetriesExceeded as unknown as new (cause: Error, details: { retryCount: number; retryTime: number }) => Error;
const protocolError = (message: string, type: string, retriable: boolean) => new KafkaJSProtocolError(Object.assign(new Error(message), { type, retriable }));

describe("isTransientError: what a start-up waits out", () => {
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
    expect(isTransientError(err)).toBe(transient);
  });
});
