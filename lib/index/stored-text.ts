import type { EmbeddingRecord } from "../records/embedding-record";

/**
 * Characters (Unicode code points) of a record's text the index keeps, so a
 * kNN answer shows what each neighbour says without a second lookup. 300 is
 * about three lines of a result card: enough to judge a hit, and at most
 * ~1.2 KB of UTF-8 per vector (typically ~300 bytes for Latin text).
 */
export const STORED_TEXT_CHARS = 300;

/** What the index keeps of a record's text (fields of DocRow; absent from rows written before texts were kept). */
export interface StoredTextFields {
  /** The first STORED_TEXT_CHARS code points of the text; null when the record carried no text (EMBED_STORE_TEXT=0). */
  text: string | null;
  /** The text was longer than what is kept. */
  text_truncated: boolean;
  /** The full text's length in code points (the record's `text_len` when it carried none); null when unknown. */
  text_len: number | null;
}

/** A neighbour's text as POST /knn/query answers it. */
export interface AnswerText extends StoredTextFields {
  /** False when the index has no text for it: the record had none (text_len known), or it was indexed before texts were kept (text_len null). */
  text_stored: boolean;
}

/**
 * The first `max` code points of `text`, and its length in code points. Cut
 * between code points, never inside a surrogate pair (a lone surrogate is not
 * valid Unicode: LMDB and JSON would carry another string).
 */
export function cutText(text: string, max = STORED_TEXT_CHARS): { text: string; truncated: boolean; length: number } {
  let length = 0;
  let end = text.length;
  for (let i = 0; i < text.length; length++) {
    if (length === max) end = i;
    const code = text.codePointAt(i) as number;
    i += code > 0xffff ? 2 : 1;
  }
  return { text: length > max ? text.slice(0, end) : text, truncated: length > max, length };
}

/** What the index stores of an embedding record's text. */
export function storedTextOf(record: EmbeddingRecord): StoredTextFields {
  if ("text_sha256" in record) return { text: null, text_truncated: false, text_len: record.text_len };
  const cut = cutText(record.text);
  return { text: cut.text, text_truncated: cut.truncated, text_len: cut.length };
}

/** A stored row's text for an answer; a row written before texts were kept (or gone) has none. */
export function answerText(row: Partial<StoredTextFields> | undefined): AnswerText {
  if (!row || row.text === undefined) return { text: null, text_truncated: false, text_len: null, text_stored: false };
  return { text: row.text, text_truncated: row.text_truncated ?? false, text_len: row.text_len ?? null, text_stored: row.text !== null };
}
