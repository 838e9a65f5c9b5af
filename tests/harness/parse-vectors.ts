import { fileURLToPath } from "node:url";
import { readFileSync } from "node:fs";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * The shared parse vectors (tests/vectors/parse-cases.json) as Kafka messages,
 * for the integration tests of both parse implementations. The file's
 * "format" entry documents each field.
 */

interface Generate {
  prefix?: string;
  repeat: string;
  count: number;
  suffix?: string;
}

export interface ParseCase {
  name: string;
  value?: string | null;
  value_json?: unknown;
  value_base64?: string;
  value_generate?: Generate;
  topic: string;
  timestamp: string | null;
  max_text_bytes?: number;
  expect: { record: { text: string | Generate; topic: string; kafka_ts: number | null; doc_id: string }; json?: string } | { reason: string };
}

const file = JSON.parse(readFileSync(path.join(here, "../vectors/parse-cases.json"), "utf8")) as {
  defaults: { max_text_bytes: number };
  cases: ParseCase[];
};

const generate = (g: Generate) => (g.prefix ?? "") + g.repeat.repeat(g.count) + (g.suffix ?? "");

/** Every parse case of the file, in its order. */
export const parseCases = (): ParseCase[] => file.cases;

/** A case's text limit: its own, or the file's default (a process's). */
export const maxTextBytes = (c: { max_text_bytes?: number }): number => c.max_text_bytes ?? file.defaults.max_text_bytes;

/** An expected text as written in the file: a string, or generated from a repeat. */
export const caseText = (t: string | Generate): string => (typeof t === "string" ? t : generate(t));

export function messageValue(c: ParseCase): Buffer | null {
  if (c.value_json !== undefined) return Buffer.from(JSON.stringify(c.value_json), "utf8");
  if (c.value_base64 !== undefined) return Buffer.from(c.value_base64, "base64");
  if (c.value_generate !== undefined) return Buffer.from(generate(c.value_generate), "utf8");
  return c.value === null || c.value === undefined ? null : Buffer.from(c.value, "utf8");
}

/**
 * The cases a running worker can be given as they are: the default size limit
 * (a process has one), and a Kafka timestamp a producer can set (a missing or
 * non-numeric one only exists in the unit vectors).
 */
export function brokerCases(): ParseCase[] {
  return file.cases.filter((c) => c.max_text_bytes === undefined && c.timestamp !== null && /^-?\d+$/.test(c.timestamp));
}

/** The embedding_input value a case must produce when read from `topic` (the vectors' own topic replaced). */
export function expectedValue(c: ParseCase, topic: string): string | undefined {
  if (!("record" in c.expect)) return undefined;
  const r = c.expect.record;
  const text = caseText(r.text);
  return JSON.stringify({ text, topic, kafka_ts: r.kafka_ts, doc_id: r.doc_id });
}

/** The DLQ reason a case must produce, if it is a bad one. */
export const expectedReason = (c: ParseCase): string | undefined => ("reason" in c.expect ? c.expect.reason : undefined);

/** Messages for a producer, one send each at most ~1 MB (the broker's default record batch limit). */
export function caseMessages(cases: ParseCase[]): { messages: { value: Buffer | null; timestamp: string; headers: { case: string } }[]; bytes: number }[] {
  const sends: { messages: { value: Buffer | null; timestamp: string; headers: { case: string } }[]; bytes: number }[] = [];
  for (const [i, c] of cases.entries()) {
    const value = messageValue(c);
    const bytes = value?.length ?? 0;
    let last = sends.at(-1);
    if (!last || last.bytes + bytes > 500_000) sends.push((last = { messages: [], bytes: 0 }));
    last.messages.push({ value, timestamp: c.timestamp ?? "", headers: { case: String(i) } });
    last.bytes += bytes;
  }
  return sends;
}

/**
 * A DLQ vector (the file's "dlq_cases"): one raw message as both parse
 * implementations read it from Kafka, the limits they work under, and the
 * exact DLQ record (key and JSON value) both must write for it — or
 * `expect.sink: true` when the record fits the sink topic and is no DLQ case.
 */
export interface DlqCase {
  name: string;
  key?: string | null;
  key_base64?: string;
  value?: string | null;
  value_json?: unknown;
  value_base64?: string;
  value_generate?: Generate;
  /** Wire order: [key, value as UTF-8 text, or null]. */
  headers?: [string, string | null][];
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
  /** When the record is dead-lettered, epoch ms (the record's `ts` is this / 1000). */
  now_ms: number;
  max_text_bytes?: number;
  sink_max_message_bytes: number;
  dlq_max_message_bytes: number;
  expect: { sink: true } | { key: string | null; key_base64?: string; json: string };
}

const dlqFile = JSON.parse(readFileSync(path.join(here, "../vectors/parse-cases.json"), "utf8")) as { dlq_cases: DlqCase[] };

export const dlqCases = (): DlqCase[] => dlqFile.dlq_cases;

export function dlqCaseKey(c: DlqCase): Buffer | null {
  if (c.key_base64 !== undefined) return Buffer.from(c.key_base64, "base64");
  return c.key === null || c.key === undefined ? null : Buffer.from(c.key, "utf8");
}

/**
 * Headers as kafkajs hands them to the worker: folded into an object, a
 * repeated key becoming an array at its first position (kafkajs'
 * protocol/recordBatch/record/v0/decoder.js).
 */
export function kafkajsHeaders(headers: [string, string | null][] = []): Record<string, Buffer | null | (Buffer | null)[]> {
  const obj: Record<string, Buffer | null | (Buffer | null)[]> = {};
  for (const [k, v] of headers) {
    const value = v === null ? null : Buffer.from(v, "utf8");
    const was = obj[k];
    obj[k] = was === undefined ? value : Array.isArray(was) ? [...was, value] : [was, value];
  }
  return obj;
}

/** The DLQ case's message as kafkajs would give it to the worker. */
export function dlqCaseMessage(c: DlqCase) {
  return { key: dlqCaseKey(c), value: messageValue(c as unknown as ParseCase), headers: kafkajsHeaders(c.headers), offset: c.offset, timestamp: c.timestamp, attributes: 0 };
}
