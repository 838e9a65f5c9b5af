import type { IHeaders, KafkaMessage, Producer } from "kafkajs";
import { REPLAY_HEADER, parseReplayCount } from "../../lib/dlq/item";
import { isFenced } from "../../lib/kafka/errors";
import { chunkRecords, fitsAlone, payloadBudget, recordBytes, type TopicLimits } from "../../lib/kafka/record-limits";
import type { EmbeddingRow, ParquetSink } from "../../lib/parquet";
import { DLQ_KEY_MAX_BYTES, dlqKey, serializeDlqWithOriginal, type RawMessage } from "../../lib/records/dlq-original";
import type { DlqReason, DlqRecord } from "../../lib/records/dlq-record";
import type { EmbeddingInput } from "../../lib/records/embedding-input";
import { kafkaTimestampToSeconds } from "../../lib/records/kafka-timestamp";
import type { Batcher } from "./batcher";
import { decodeInput, type PartialInput } from "./decode-input";
import { dlqRecord, embeddingJson, embeddingMessage, embeddingRow, type Source } from "./output-records";
import type { ReddbSink } from "./reddb-sink";

export interface UnitDeps {
  batcher: Batcher;
  parquet?: ParquetSink;
  reddb?: { sink: ReddbSink; writeWithRetry: <T>(fn: () => Promise<T>) => Promise<T> };
  /** Each topic's `max.message.bytes` as the broker reports it. */
  limits: Pick<TopicLimits, "maxMessageBytes" | "invalidate">;
  outputTopic: string;
  dlqTopic: string;
  group: string;
  normalize: boolean;
  storeText: boolean;
  maxTextBytes: number;
}

/**
 * A DLQ record with the input message it is about — kept whole in the record's
 * `original` (fitted to the DLQ topic's limit when written) — and the Kafka
 * headers its message carries: the input's `x-embedline-replay-count` (set by
 * the console's redrive), so a record that was redriven and fails again keeps
 * its count and the console's replay limit (DLQ_REDRIVE_MAX_REPLAYS) still holds.
 */
export interface DlqOut {
  record: DlqRecord;
  original: RawMessage;
  headers: IHeaders;
  /** The replay count as a number, for sinks without headers (RedDB's `replay_count`). */
  replayCount: number;
}

/** What a unit turned into, before anything is written. */
export interface UnitResult {
  rows: EmbeddingRow[];
  /** Per row, its vector's JSON text from the upstream when known (embeddingJson passes it on). */
  vectorsJson: (string | undefined)[];
  /** Per row, the input it came from: a row that cannot be written becomes a DLQ record of it. */
  rowInputs: { input: EmbeddingInput; message: KafkaMessage }[];
  dlq: DlqOut[];
}

/** The headers of the input message a DLQ record passes on (only the replay count). */
function carriedHeaders(m: KafkaMessage): { headers: IHeaders; replayCount: number } {
  const replay = m.headers?.[REPLAY_HEADER];
  if (replay === undefined) return { headers: {}, replayCount: 0 };
  return { headers: { [REPLAY_HEADER]: replay }, replayCount: parseReplayCount(replay) };
}

const sourceOf = (topic: string, partition: number, m: KafkaMessage): Source => ({ topic, partition, offset: m.offset, timestamp: kafkaTimestampToSeconds(m.timestamp) });

/** The DLQ record of input message `m`, which keeps `m` itself. */
function dlqOut(deps: Pick<UnitDeps, "storeText">, m: KafkaMessage, source: Source, partial: PartialInput, failure: { reason: DlqReason; error: string; attempts: number; model: string | null }): DlqOut {
  return {
    record: dlqRecord(partial, failure, deps.storeText, source, Date.now() / 1000) as DlqRecord,
    original: { key: m.key, value: m.value, headers: m.headers },
    ...carriedHeaders(m),
  };
}

/**
 * Bytes of records per produce request, at most. A 384-dim vector is 4–8 KB
 * of JSON, and kafkajs puts a request's records for one partition in one
 * record batch, which the broker refuses above max.message.bytes (1 MB by
 * default): 900 KB stays under it even if every record of a request goes to
 * one partition, with as few round trips as that allows (512 KB measured ~5%
 * slower at the transport ceiling). A topic whose limit is lower bounds the
 * requests that write to it instead.
 */
const SEND_CHUNK_BYTES = 900 * 1024;

/** Thrown before a Parquet rename when the partition was lost meanwhile: nothing of the unit is kept. */
export class PartitionLost extends Error {
  override name = "PartitionLost";
}

/**
 * The DLQ topic's limit is too small for even a bare DLQ record (a few KB): a
 * configuration to fix, waited out (`retriable`) like an outage — the limit is
 * read again every minute — rather than blamed on the record.
 */
export class DlqTopicTooSmall extends Error {
  override name = "DlqTopicTooSmall";
  readonly retriable = true;
}

/**
 * Decode, validate and embed one unit (consecutive messages of one partition).
 * Every message ends as exactly one row or one DLQ record.
 */
export async function transformUnit(deps: UnitDeps, topic: string, partition: number, messages: KafkaMessage[]): Promise<UnitResult> {
  const decoded = messages.map((m) => ({ m, d: decodeInput(m.value, m.timestamp, deps.maxTextBytes) }));
  const toEmbed = decoded.flatMap(({ m, d }) => (d.ok ? [{ m, input: d.input }] : []));
  const outcomes = await deps.batcher.submit(toEmbed.map((x) => x.input.text));
  const now = Date.now() / 1000;

  const rows: EmbeddingRow[] = [];
  const vectorsJson: (string | undefined)[] = [];
  const rowInputs: UnitResult["rowInputs"] = [];
  const dlq: DlqOut[] = [];
  const outcomeByOffset = new Map(toEmbed.map((x, i) => [x.m.offset, outcomes[i]!]));
  for (const { m, d } of decoded) {
    const source = sourceOf(topic, partition, m);
    if (!d.ok) {
      dlq.push(dlqOut(deps, m, source, d.partial, { reason: d.reason, error: d.error, attempts: 0, model: null }));
      continue;
    }
    const o = outcomeByOffset.get(m.offset)!;
    if (o.ok) {
      rows.push(embeddingRow(d.input, o.vector, o.model, deps.normalize, deps.storeText, source, now));
      vectorsJson.push(o.vectorJson);
      rowInputs.push({ input: d.input, message: m });
    } else {
      dlq.push(dlqOut(deps, m, source, partialOf(d.input), o));
    }
  }
  return { rows, vectorsJson, rowInputs, dlq };
}

const partialOf = (input: EmbeddingInput): PartialInput => ({ text: input.text, topic: input.topic, kafka_ts: input.kafka_ts, doc_id: input.doc_id });

/**
 * The unit of one message that failed every attempt (consumer.ts isolates it
 * first): its DLQ record alone, with whatever of the input can still be read.
 */
export function deadLetterUnit(deps: Pick<UnitDeps, "storeText" | "maxTextBytes">, topic: string, partition: number, m: KafkaMessage, failure: { reason: "too_large" | "unprocessable"; error: string; attempts: number }): UnitResult {
  let partial: PartialInput = { text: null, topic: null, kafka_ts: kafkaTimestampToSeconds(m.timestamp), doc_id: null };
  try {
    const d = decodeInput(m.value, m.timestamp, deps.maxTextBytes);
    partial = d.ok ? partialOf(d.input) : d.partial;
  } catch {
    // Reading it may be what fails; the original message is kept whole anyway.
  }
  return { rows: [], vectorsJson: [], rowInputs: [], dlq: [dlqOut(deps, m, sourceOf(topic, partition, m), partial, { ...failure, model: null })] };
}

interface OutMessage {
  topic: string;
  key: string | Buffer | null;
  value: string;
  headers?: IHeaders;
}

/** A unit as it is written: each record serialized, checked against its topic's limit, and the ones that do not fit turned into DLQ records. */
interface Prepared {
  rows: EmbeddingRow[];
  /** Per row, its input and its message to the output topic. */
  rowInputs: UnitResult["rowInputs"];
  embeddings: OutMessage[];
  dlq: { out: DlqOut; message: OutMessage }[];
  /** The limits the records were checked against, which bound the produce requests too. */
  limits: { output: number; dlq: number };
}

/**
 * Serialize the unit as it will be written and check every record against its
 * topic's `max.message.bytes` read from the broker (key, value and headers, as
 * the broker counts them): an embedding record that does not fit — text that
 * grew when JSON-escaped, a long doc_id, a wide vector — goes to the DLQ as
 * `too_large` instead of stalling the partition on a refusal.
 */
async function prepareUnit(deps: UnitDeps, range: { topic: string; partition: number }, result: UnitResult): Promise<Prepared> {
  const [outLimit, dlqLimit] = await Promise.all([deps.limits.maxMessageBytes(deps.outputTopic), deps.limits.maxMessageBytes(deps.dlqTopic)]);
  const rows: EmbeddingRow[] = [];
  const rowInputs: UnitResult["rowInputs"] = [];
  const embeddings: OutMessage[] = [];
  const dlq = [...result.dlq];
  result.rows.forEach((row, i) => {
    const message: OutMessage = { topic: deps.outputTopic, key: row.doc_id, value: embeddingJson(embeddingMessage(row), result.vectorsJson[i]) };
    if (fitsAlone(message, outLimit)) {
      rows.push(row);
      rowInputs.push(result.rowInputs[i]!);
      embeddings.push(message);
      return;
    }
    const { input, message: m } = result.rowInputs[i]!;
    const error = `the embedding record is ${recordBytes(message)} bytes serialized (key and framing included), over ${deps.outputTopic}'s max.message.bytes of ${outLimit}`;
    dlq.push(dlqOut(deps, m, sourceOf(range.topic, range.partition, m), partialOf(input), { reason: "too_large", error, attempts: 1, model: row.model }));
  });
  return { rows, rowInputs, embeddings, dlq: dlq.map((out) => ({ out, message: dlqMessage(deps, out, dlqLimit) })), limits: { output: outLimit, dlq: dlqLimit } };
}

/**
 * The Kafka message of a DLQ record: its original attached and fitted under
 * the DLQ topic's limit, keyed by a short doc_id. Fields read from a hostile
 * input (doc_id, topic) can be as large as the message itself; when the record
 * does not fit with them, long ones are left out (null) — the original keeps
 * their bytes, or a prefix with size and sha256.
 */
function dlqMessage(deps: Pick<UnitDeps, "dlqTopic" | "storeText">, d: DlqOut, dlqLimit: number): OutMessage {
  const key = dlqKey(d.record.doc_id);
  // What the key and headers take of the record's budget.
  const framing = recordBytes({ key, value: "", headers: d.headers }) - recordBytes({ value: "" });
  const serialize = (record: DlqRecord) => serializeDlqWithOriginal(record, d.original, payloadBudget(dlqLimit) - framing, { withholdValue: !deps.storeText });
  let value: string;
  try {
    value = serialize(d.record);
  } catch {
    const short = (v: string | null) => (v !== null && Buffer.byteLength(v) > DLQ_KEY_MAX_BYTES ? null : v);
    try {
      value = serialize({ ...d.record, text: null, topic: short(d.record.topic), doc_id: short(d.record.doc_id) });
    } catch (err) {
      throw new DlqTopicTooSmall(`${deps.dlqTopic}'s max.message.bytes of ${dlqLimit} is too small for a DLQ record: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return { topic: deps.dlqTopic, key, value, headers: d.headers };
}

/**
 * Make a transformed unit durable, in the order the exactly-once protocol
 * needs (lib/parquet/sink.ts explains the recovery side): every record is
 * serialized and checked against its topic's size limit first (prepareUnit);
 * then the Parquet file of the unit's rows (temp file, fsync, rename, fsync
 * dir) and RedDB (optional; at-least-once by design) must be done before the
 * Kafka transaction — embeddings + DLQ records + the consumed offset (`nextOffset`
 * when given: past the transaction markers that end the batch) —
 * commits. The Parquet file is written while RedDB is written and the
 * transaction's records are sent, which is most of a unit's commit time.
 * If anything fails the caller recovers the partition (PartitionOwners.takeOver)
 * and consumes again from the committed offset; the Parquet file of a failed
 * unit is deleted then.
 */
export async function commitUnit(
  deps: UnitDeps,
  producer: Producer,
  range: { topic: string; partition: number; firstOffset: string; lastOffset: string; nextOffset?: string },
  result: UnitResult,
  stillOwner: () => boolean,
): Promise<{ parquetFile?: string; rows: number; dlq: number }> {
  const prepared = await prepareUnit(deps, range, result);
  const parquet = writeParquet(deps, range, prepared.rows, stillOwner);
  // Handled from the start: the write may fail while the records are still being sent.
  const parquetSettled = parquet.then(() => undefined, () => undefined);
  // RedDB before the transaction opens: an outage of RedDB is waited out, and a
  // transaction open that long would time out.
  const tx = await writeReddb(deps, range, prepared)
    .then(() => producer.transaction())
    .catch(async (err: unknown) => {
      await parquetSettled;
      throw err;
    });
  try {
    const outgoing = [...prepared.embeddings, ...prepared.dlq.map((d) => d.message)];
    for (const chunk of chunkRecords(outgoing, Math.min(SEND_CHUNK_BYTES, prepared.limits.output, prepared.limits.dlq))) {
      const topics = [...new Set(chunk.map((m) => m.topic))];
      await tx.sendBatch({ topicMessages: topics.map((topic) => ({ topic, messages: chunk.filter((m) => m.topic === topic).map(({ key, value, headers }) => ({ key, value, headers })) })) });
    }
    const parquetFile = await parquet;
    await tx.sendOffsets({
      consumerGroupId: deps.group,
      topics: [{ topic: range.topic, partitions: [{ partition: range.partition, offset: range.nextOffset ?? (BigInt(range.lastOffset) + 1n).toString() }] }],
    });
    await tx.commit();
    return { parquetFile, rows: prepared.rows.length, dlq: prepared.dlq.length };
  } catch (err) {
    // A Parquet rename still under way must land before the partition's
    // recovery looks for files to delete, or it would outlive that clean-up.
    const parquetFile = await parquet.catch(() => undefined);
    await tx.abort().catch(() => undefined);
    // Fenced: a newer owner took the partition over, so this transaction can
    // never commit — and that owner's clean-up of uncommitted files may have
    // run before our rename (a worker that lost its session without noticing).
    // Our file is ours to remove. Any other failure may have committed: the
    // partition's next takeover, which knows, deletes the file if it did not.
    if (parquetFile && deps.parquet && isFenced(err)) await deps.parquet.discard(parquetFile);
    throw err;
  }
}

async function writeParquet(deps: UnitDeps, range: { topic: string; partition: number; firstOffset: string; lastOffset: string }, rows: EmbeddingRow[], stillOwner: () => boolean): Promise<string | undefined> {
  if (!deps.parquet || rows.length === 0) return undefined;
  return deps.parquet.write(
    { topic: range.topic, partition: range.partition, firstOffset: BigInt(range.firstOffset), lastOffset: BigInt(range.lastOffset) },
    rows,
    () => {
      if (!stillOwner()) throw new PartitionLost("partition lost before the Parquet rename");
    },
  );
}

/** How long one round of RedDB writes may take before it counts as failed (and is waited out and tried again). */
const REDDB_ROUND_TIMEOUT_MS = 60_000;

/**
 * The unit's records and DLQ records to RedDB. A record RedDB refuses for
 * good (a 4xx that no retry changes, e.g. `embedding:{doc_id}` over its key
 * limit) still goes to Kafka and Parquet — RedDB is an optional copy — and a
 * DLQ record (`doc_id_too_long` or `unprocessable`, in Kafka and in RedDB's
 * DLQ stream) says RedDB lacks it, instead of waiting for RedDB forever.
 * Outages are waited out (writeWithRetry).
 */
async function writeReddb(deps: UnitDeps, range: { topic: string; partition: number }, prepared: Prepared): Promise<void> {
  if (!deps.reddb) return;
  const { sink, writeWithRetry } = deps.reddb;
  const refused = await writeWithRetry(() => sink.write(prepared.rows.map(embeddingMessage), prepared.dlq.map(reddbDlq), AbortSignal.timeout(REDDB_ROUND_TIMEOUT_MS)));
  if (refused.length === 0) return;
  const added = refused.map((refusal) => {
    const row = prepared.rows[refusal.index]!;
    const { input, message: m } = prepared.rowInputs[refusal.index]!;
    const error = oneLine(`RedDB refused the record, which is in Kafka and Parquet: ${refusal.error}`);
    const out = dlqOut(deps, m, sourceOf(range.topic, range.partition, m), partialOf(input), { reason: refusal.reason, error, attempts: 1, model: row.model });
    return { out, message: dlqMessage(deps, out, prepared.limits.dlq) };
  });
  await writeWithRetry(() => sink.write([], added.map(reddbDlq), AbortSignal.timeout(REDDB_ROUND_TIMEOUT_MS)));
  prepared.dlq.push(...added);
}

/** RedDB streams have no headers: the replay count travels in the record, which is otherwise the Kafka DLQ record. */
function reddbDlq(d: Prepared["dlq"][number]): unknown {
  const record = JSON.parse(d.message.value) as Record<string, unknown>;
  return d.out.replayCount > 0 ? { ...record, replay_count: d.out.replayCount } : record;
}

const oneLine = (s: string) => s.replace(/\s+/g, " ").trim().slice(0, 500);
