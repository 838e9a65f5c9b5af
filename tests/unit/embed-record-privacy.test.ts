import { describe, expect, it } from "vitest";
import { embeddingRecordSchema, serializeEmbeddingRecord, type EmbeddingRecord } from "../../lib/records/embedding-record";
import { sha256Hex } from "../../lib/records/sha256";
import { embeddingMessage, embeddingRow } from "../../workers/embed/output-records";

const input = { text: "Grüße 🙂 from the privacy switch", topic: "agent.results", kafka_ts: 1700000000.5, doc_id: "d1" };
const source = { topic: "embedding_input", partition: 0, offset: "7" };
const emitted = (storeText: boolean) => embeddingMessage(embeddingRow(input, [0.6, 0.8], "all-MiniLM-L6-v2", true, storeText, source, 1700000001));

describe("embedding record, with text or in its privacy form (EMBED_STORE_TEXT=0)", () => {
  it("accepts what the worker emits in either mode, and the privacy form carries no text", () => {
    const withText = embeddingRecordSchema.parse(emitted(true));
    expect(withText.text).toBe(input.text);

    const hidden = embeddingRecordSchema.parse(emitted(false));
    expect(hidden).not.toHaveProperty("text");
    expect(hidden).toMatchObject({ text_sha256: sha256Hex(input.text), text_len: [...input.text].length });
  });

  it("rejects a record with neither form, a malformed hash or length, or text next to the hash", () => {
    const hidden = emitted(false);
    const neither: Record<string, unknown> = { ...hidden };
    delete neither.text_sha256;
    delete neither.text_len;
    expect(embeddingRecordSchema.safeParse(neither).success).toBe(false);
    expect(embeddingRecordSchema.safeParse({ ...hidden, text_sha256: "ABC" }).success).toBe(false);
    expect(embeddingRecordSchema.safeParse({ ...hidden, text_sha256: sha256Hex("x").toUpperCase() }).success).toBe(false);
    expect(embeddingRecordSchema.safeParse({ ...hidden, text_len: 0 }).success).toBe(false);
    expect(embeddingRecordSchema.safeParse({ ...hidden, text_len: 2.5 }).success).toBe(false);
    expect(embeddingRecordSchema.safeParse({ ...hidden, text: "" }).success).toBe(false);
    // The vector rules hold in the privacy form too.
    expect(embeddingRecordSchema.safeParse({ ...hidden, dim: 3 }).success).toBe(false);
    expect(embeddingRecordSchema.safeParse({ ...hidden, vector: [Number.NaN, 1] }).success).toBe(false);
  });

  it("serialises the privacy form with the hash and length where the text would be", () => {
    const r = embeddingRecordSchema.parse(emitted(false)) as EmbeddingRecord;
    expect(Object.keys(JSON.parse(serializeEmbeddingRecord(r)) as object)).toEqual([
      "topic", "text_sha256", "text_len", "doc_id", "vector", "kafka_ts", "embedded_ts", "model", "dim", "normalized",
    ]);
    expect(JSON.parse(serializeEmbeddingRecord(r))).toEqual(emitted(false));
    expect(JSON.parse(serializeEmbeddingRecord(embeddingRecordSchema.parse(emitted(true))))).toEqual(emitted(true));
  });
});
