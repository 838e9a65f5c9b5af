import { describe, expect, it } from "vitest";
import { deriveDocId } from "@/lib/records/derive-doc-id";
import { readValue } from "@/lib/records/decode-value";
import { extractText, isBlankText } from "@/lib/records/extract-text";
import { jsonTopLevelSources } from "@/lib/records/json-top-level-sources";
import { parseRawMessage } from "@/lib/records/parse-raw-message";

const opts = { maxTextBytes: 1_000_000 };

describe("parseRawMessage edge cases", () => {
  it("takes a Buffer, a Uint8Array or a string alike", () => {
    const s = '{"text":"héllo 🚀","id":7}';
    const want = { ok: true, record: { text: "héllo 🚀", topic: "t", kafka_ts: 1.5, doc_id: "7" } };
    expect(parseRawMessage(Buffer.from(s), "t", "1500", opts)).toEqual(want);
    expect(parseRawMessage(new TextEncoder().encode(s), "t", "1500", opts)).toEqual(want);
    expect(parseRawMessage(s, "t", "1500", opts)).toEqual(want);
  });

  it("hashes the UTF-8 bytes of unicode text, not UTF-16 code units", () => {
    // Python: hashlib.sha256("naïve 👩‍💻 テキスト".encode()).hexdigest()
    const doc = "ad5162a07be3bac6e8b1206901b93d0879b7affbc5de9355d283b3d9074976b8";
    expect(parseRawMessage("naïve 👩‍💻 テキスト", "t", null, opts)).toEqual({
      ok: true,
      record: { text: "naïve 👩‍💻 テキスト", topic: "t", kafka_ts: null, doc_id: doc },
    });
  });

  it("rejects a string value holding a lone surrogate: it has no UTF-8 form", () => {
    expect(parseRawMessage("bad \ud800 text", "t", null, opts)).toMatchObject({ ok: false, reason: "invalid_unicode" });
  });

  it.each([null, undefined, "", " ", "\n\t", "\u3000", '{"text":" "}'])("%j is empty_text", (value) => {
    expect(parseRawMessage(value, "t", "0", opts)).toMatchObject({ ok: false, reason: "empty_text" });
  });

  it("measures huge text in UTF-8 bytes, at and over the limit", () => {
    const limit = 4 * 1024 * 1024;
    const atLimit = "🚀".repeat(limit / 4);
    const r = parseRawMessage(Buffer.from(JSON.stringify({ text: atLimit, id: "big" })), "t", "0", { maxTextBytes: limit });
    expect(r.ok && r.record.text.length).toBe(limit / 2); // UTF-16 units: 2 per rocket
    expect(r.ok && r.record.doc_id).toBe("big");
    const over = parseRawMessage(Buffer.from(JSON.stringify({ text: `${atLimit}x` })), "t", "0", { maxTextBytes: limit });
    expect(over).toEqual({ ok: false, reason: "text_too_large", error: `text is ${limit + 1} UTF-8 bytes, over the limit of ${limit}` });
  });

  it("never puts the text in the error line", () => {
    const r = parseRawMessage('{"text":"secret-ish text"}', "t", "0", { maxTextBytes: 3 });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).not.toContain("secret-ish");
  });
});

describe("numbers as ids", () => {
  const idOf = (json: string) => deriveDocId(readValue(json), "t");

  it.each([
    ['{"id":42}', "42"],
    ['{"id":-42}', "-42"],
    ['{"id":3.14}', "3.14"],
    ['{"id":1E+2}', "1E+2"],
    ['{"id":9007199254740993}', "9007199254740993"], // 2^53 + 1: JSON.parse would give ...992
    ['{"id":340282366920938463463374607431768211457}', "340282366920938463463374607431768211457"],
    ['{"doc_id":null,"id":[1,{"a":"]"}],"document_id":{"k":"\\"}"},"key":77}', "77"],
    ['{"text":"a,b}","key":5}', "5"],
    ['{ "key" : 5 , "x" : 1 }', "5"],
  ])("%s → %s", (json, id) => {
    expect(idOf(json)).toBe(id);
  });

  it("a string id wins over a later numeric one and is kept verbatim", () => {
    expect(idOf('{"doc_id":"007","id":7}')).toBe("007");
  });

  it("reads the top-level members' source text, last duplicate winning", () => {
    const src = jsonTopLevelSources('{"a":1,"b":{"c":[1,"}"]},"s":"x\\"y","a":2.50, "e":{}}');
    expect(Object.fromEntries(src)).toEqual({ a: "2.50", b: '{"c":[1,"}"]}', s: '"x\\"y"', e: "{}" });
    expect(jsonTopLevelSources("{}").size).toBe(0);
  });
});

describe("text extraction", () => {
  it("uses only top-level string fields", () => {
    expect(extractText(readValue('{"content":{"text":"deep"},"prompt":"p"}'))).toBe("p");
    expect(extractText(readValue('["text","x"]'))).toBe('["text","x"]');
  });

  it("does not see inherited properties", () => {
    expect(extractText(readValue('{"__proto__":{"text":"proto"}}'))).toBe('{"__proto__":{"text":"proto"}}');
  });

  it.each([
    ["", true],
    [" \t\r\n\v\f", true],
    ["\u00a0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000\ufeff", true],
    ["\u200b", false],
    ["\u0085", false],
    ["\u001c", false],
    [" x ", false],
  ])("isBlankText(%j) = %s", (text, blank) => {
    expect(isBlankText(text)).toBe(blank);
  });
});
