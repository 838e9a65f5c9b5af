import { createRequire } from "node:module";
import { Kafka } from "kafkajs";
import { describe, expect, it } from "vitest";

// lib/kafka/partition-fetch.ts reads (lag counts, DLQ and topic reads) with a read_committed Fetch outside a
// consumer group, through two kafkajs internals. An upgrade that moves either
// must fail here, not as a console that reports every lag as an offset gap.
const require = createRequire(import.meta.url);

describe("the kafkajs internals partition-fetch.ts relies on", () => {
  it("a Kafka object keeps its cluster factory under the symbol private:Kafka:createCluster", () => {
    const kafka = new Kafka({ brokers: ["127.0.0.1:1"] });
    const factory = Object.getOwnPropertySymbols(kafka).find((s) => s.description === "private:Kafka:createCluster");
    expect(typeof (kafka as unknown as Record<symbol, unknown>)[factory!]).toBe("function");
  });

  it("its Batch drops control records and aborted transactions, and lastOffset still counts them", () => {
    const Batch = require("kafkajs/src/consumer/batch") as new (topic: string, fetchedOffset: string, p: object) => { messages: { offset: string }[]; lastOffset(): string };
    // As kafkajs decodes a fetch: each record with its record batch's producer and transaction flag; an abort marker's key is 0x00000000.
    const record = (offset: number, producerId: string, inTransaction: boolean, control?: "commit" | "abort") => ({
      offset: String(offset),
      isControlRecord: control !== undefined,
      key: control === "abort" ? Buffer.from([0, 0, 0, 0]) : control === "commit" ? Buffer.from([0, 0, 0, 1]) : null,
      batchContext: { producerId, inTransaction },
    });
    const batch = new Batch("t", "2", {
      partition: 0,
      highWatermark: "9",
      // 0–1 before the fetch offset; 2–3 committed by producer 1, 4 its marker; 5–6 aborted by producer 7, 7 its marker; 8 plain.
      abortedTransactions: [{ producerId: "7", firstOffset: "5" }],
      messages: [
        record(0, "1", true),
        record(1, "1", true),
        record(2, "1", true),
        record(3, "1", true),
        record(4, "1", true, "commit"),
        record(5, "7", true),
        record(6, "7", true),
        record(7, "7", true, "abort"),
        record(8, "-1", false),
      ],
    });
    expect(batch.messages.map((m) => m.offset)).toEqual(["2", "3", "8"]);
    expect(batch.lastOffset()).toBe("8");
    const markersOnly = new Batch("t", "4", { partition: 0, highWatermark: "8", abortedTransactions: [{ producerId: "7", firstOffset: "5" }], messages: [record(4, "1", true, "commit"), record(5, "7", true), record(6, "7", true), record(7, "7", true, "abort")] });
    // Nothing a consumer gets; the consumer's position goes past all of it.
    expect(markersOnly.messages).toEqual([]);
    expect(markersOnly.lastOffset()).toBe("7");
  });
});
