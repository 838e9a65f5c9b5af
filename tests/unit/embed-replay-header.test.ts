import { describe, expect, it } from "vitest";
import { commitUnit, transformUnit } from "../../workers/embed/unit-of-work";
import { inputMessage, recordingProducer, unitDeps } from "./embed-unit-fixtures";

describe("embed-worker DLQ records keep a redriven record's replay count", () => {
  it("copies x-embedline-replay-count from the input onto the DLQ message, and into RedDB's DLQ record", async () => {
    const reddbDlq: unknown[][] = [];
    const d = unitDeps({ reddb: { sink: { write: async (_records: unknown, dlq: unknown[]) => (reddbDlq.push(dlq), []) } as never, writeWithRetry: (fn) => fn() } });
    const result = await transformUnit(d, "in", 0, [
      inputMessage(0, JSON.stringify({ text: "", doc_id: "redriven-twice" }), { headers: { "x-embedline-replay-count": Buffer.from("2"), "x-other": "not carried" } }),
      inputMessage(1, JSON.stringify({ text: "fine", doc_id: "ok", topic: "t", kafka_ts: 1 }), { headers: { "x-embedline-replay-count": "1" } }),
      inputMessage(2, "{not json"),
    ]);
    expect(result.rows.map((r) => r.doc_id)).toEqual(["ok"]);
    expect(result.dlq.map((x) => x.record.reason)).toEqual(["empty_text", "invalid_json"]);

    const { producer, sent } = recordingProducer();
    await commitUnit(d, producer, { topic: "in", partition: 0, firstOffset: "0", lastOffset: "2" }, result, () => true);
    const dlq = sent.filter((s) => s.topic === "dlq").flatMap((s) => s.messages);
    expect(dlq).toHaveLength(2);
    expect(String(dlq[0]!.headers?.["x-embedline-replay-count"])).toBe("2");
    expect(dlq[0]!.headers).not.toHaveProperty("x-other");
    // A first failure carries no replay count at all (the console reads that as 0).
    expect(dlq[1]!.headers ?? {}).toEqual({});
    // Embedding records never carry it.
    expect(sent.filter((s) => s.topic === "out").flatMap((s) => s.messages).every((m) => m.headers === undefined)).toBe(true);

    expect(reddbDlq[0]).toEqual([expect.objectContaining({ reason: "empty_text", replay_count: 2 }), expect.not.objectContaining({ replay_count: expect.anything() })]);
  });
});
