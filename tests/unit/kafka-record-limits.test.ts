import { describe, expect, it } from "vitest";
import { isTooLarge } from "@/lib/kafka/errors";
import { TopicLimits, chunkRecords, fitsAlone, recordBytes } from "@/lib/kafka/record-limits";

describe("record size limits", () => {
  it("counts key, value and headers with their framing", () => {
    const bare = recordBytes({ value: "" });
    expect(recordBytes({ key: "abc", value: "héllo" })).toBe(bare + 3 + 6);
    expect(recordBytes({ value: "", headers: { h: "v", r: ["1", Buffer.from("22")] } })).toBe(bare + (10 + 2) + (10 + 2) + (10 + 3));
  });

  it("fitsAlone allows a record up to the limit with the batch header", () => {
    const limit = 1000;
    const overhead = recordBytes({ value: "" }) + 61;
    expect(fitsAlone({ value: "x".repeat(limit - overhead) }, limit)).toBe(true);
    expect(fitsAlone({ value: "x".repeat(limit - overhead + 1) }, limit)).toBe(false);
  });

  it("chunks records into batches under the limit; one too large goes alone", () => {
    const records = [300, 300, 300, 5000, 10].map((n) => ({ value: "x".repeat(n) }));
    const chunks = [...chunkRecords(records, 1000)];
    expect(chunks.map((c) => c.map((r) => r.value.length))).toEqual([[300, 300], [300], [5000], [10]]);
  });

  it("reads a topic's max.message.bytes once, and again after invalidate", async () => {
    let calls = 0;
    const admin = {
      describeConfigs: async () => {
        calls++;
        return { throttleTime: 0, resources: [{ errorCode: 0, errorMessage: "", resourceName: "t", resourceType: 2, configEntries: [{ configName: "max.message.bytes", configValue: "65536", isDefault: false, configSource: 1, isSensitive: false, readOnly: false, configSynonyms: [] }] }] };
      },
    };
    const limits = new TopicLimits(admin);
    expect(await limits.maxMessageBytes("t")).toBe(65536);
    expect(await limits.maxMessageBytes("t")).toBe(65536);
    expect(calls).toBe(1);
    limits.invalidate("t");
    await limits.maxMessageBytes("t");
    expect(calls).toBe(2);
  });

  it("tells a size refusal from other errors, through kafkajs' wrapping", () => {
    const refused = Object.assign(new Error("too large"), { type: "MESSAGE_TOO_LARGE" });
    expect(isTooLarge(Object.assign(new Error("retries"), { originalError: refused }))).toBe(true);
    expect(isTooLarge(Object.assign(new Error("x"), { type: "RECORD_LIST_TOO_LARGE" }))).toBe(true);
    expect(isTooLarge(Object.assign(new Error("x"), { type: "NOT_LEADER_FOR_PARTITION" }))).toBe(false);
  });
});
