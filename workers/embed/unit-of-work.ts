import type { IHeaders, KafkaMessage, Producer } from "kafkajs";
import { REPLAY_HEADER, parseReplayCount } from "../../lib/dlq/item";
import { isFenced } from "../../lib/kafka/errors";
import type { EmbeddingRow, ParquetSink } from "../../lib/parquet";
import type { DlqRecord } from "../../lib/records/dlq-record";
import type { Batcher } from "./batcher";
import { decodeInput } from "./decode-input";
import { dlqRecord, embeddingJson, embeddingMessage, embeddingRow, type Source } from "./output-records";
import type { ReddbSink } from "./reddb-sink";

export interface UnitDeps {
  batcher: Batcher;
  parquet?: ParquetSink;
  reddb?: { sink: ReddbSink; writeWithRetry: (fn: () => Promise<void>) => Promise<void> };
  outputTopic: string;
  dlqTopic: string;
  group: string;
  normalize: boolean;
  storeText: boolean;
  maxTextBytes: number;
}

/**
 * A DLQ record with the Kafka headers its message carries: the input's
 * `x-embedline-replay-count` (set by the console's redrive), so a record that
 * was redriven and fails again keeps its count and the console's replay limit
 * (DLQ_REDRIVE_MAX_REPLAYS) still holds.
 */
export interface DlqOut {
  record: DlqRecord;
  headers: IHeaders;
  /** The replay count as a number, for sinks without headers (RedDB's `replay_count`). */
  replayCount: number;
}

/** What a unit turned into, before anything is written. */
export interface UnitResult {
  rows: EmbeddingRow[];
  /** Per row, its vector's JSON text from the upstream when known (embeddingJson passes it on). */
  vectorsJson: (string | undefined)[];
  dlq: DlqOut[];
}

/** The headers of the input message a DLQ record passes on (only the replay count). */
function carriedHeaders(m: KafkaMessage): { headers: IHeaders; replayCount: number } {
  const replay = m.headers?.[REPLAY_HEADER];
  if (replay === undefined) return { headers: {}, replayCount: 0 };
  return { headers: { [REPLAY_HEADER]: replay }, replayCount: parseReplayCount(replay) };
}

/**
 * Bytes of records per produce request. A 512-dim vector is 5–10 KB of JSON, and
 * kafkajs puts a request's records for one partition in one record batch,
 * which the broker refuses above max.message.bytes (1 MB by default): 900 KB
 * stays under it even if every record of a request goes to one partition, with
 * as few round trips as that allows (512 KB measured ~5% slower at the
 * transport ceiling).
 */
const SEND_CHUNK_BYTES = 900 * 1024;

/** Consecutive runs of `items` whose values add up to at most `limit` bytes (a larger item alone). */
function* bySize<T extends { value: string }>(items: T[], limit: number): Generator<T[]> {
  let chunk: T[] = [];
  let size = 0;
  for (const item of items) {
    const n = Buffer.byteLength(item.value);
    if (chunk.length > 0 && size + n > limit) {
      yield chunk;
      chunk = [];
      size = 0;
    }
    chunk.push(item);
    size += n;
  }
  if (chunk.length > 0) yield chunk;
}

/** Thrown before a Parquet rename when the partition was lost meanwhile: nothing of the unit is kept. */
export class PartitionLost extends Error {
  override name = "PartitionLost";
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
  const source = (m: KafkaMessage): Source => ({ topic, partition, offset: m.offset });

  const rows: EmbeddingRow[] = [];
  const vectorsJson: (string | undefined)[] = [];
  const dlq: DlqOut[] = [];
  const outcomeByOffset = new Map(toEmbed.map((x, i) => [x.m.offset, outcomes[i]!]));
  for (const { m, d } of decoded) {
    if (!d.ok) {
      dlq.push({ record: dlqRecord(d.partial, { reason: d.reason, error: d.error, attempts: 0, model: null }, deps.storeText, source(m), now) as DlqRecord, ...carriedHeaders(m) });
      continue;
    }
    const o = outcomeByOffset.get(m.offset)!;
    if (o.ok) {
      rows.push(embeddingRow(d.input, o.vector, o.model, deps.normalize, deps.storeText, source(m), now));
      vectorsJson.push(o.vectorJson);
    } else {
      const partial = { text: d.input.text, topic: d.input.topic, kafka_ts: d.input.kafka_ts, doc_id: d.input.doc_id };
      dlq.push({ record: dlqRecord(partial, o, deps.storeText, source(m), now) as DlqRecord, ...carriedHeaders(m) });
    }
  }
  return { rows, vectorsJson, dlq };
}

/**
 * Make a transformed unit durable, in the order the exactly-once protocol
 * needs (lib/parquet/sink.ts explains the recovery side): the Parquet file of
 * the unit's rows (temp file, fsync, rename, fsync dir) and RedDB (optional;
 * at-least-once by design) must be done before the Kafka transaction —
 * embeddings + DLQ records + the consumed offset — commits. The Parquet file
 * is written while the transaction's records are sent, which is most of a
 * unit's commit time.
 * If anything fails the caller recovers the partition (PartitionOwners.takeOver)
 * and consumes again from the committed offset; the Parquet file of a failed
 * unit is deleted then.
 */
export async function commitUnit(
  deps: UnitDeps,
  producer: Producer,
  range: { topic: string; partition: number; firstOffset: string; lastOffset: string },
  result: UnitResult,
  stillOwner: () => boolean,
): Promise<{ parquetFile?: string }> {
  const messages = result.rows.map(embeddingMessage);
  const parquet = writeParquet(deps, range, result, stillOwner);
  // Handled from the start: the write may fail while the records are still being sent.
  const parquetSettled = parquet.then(() => undefined, () => undefined);
  // RedDB before the transaction opens: an outage of RedDB is waited out, and a
  // transaction open that long would time out.
  const tx = await writeReddb(deps, messages, result)
    .then(() => producer.transaction())
    .catch(async (err: unknown) => {
      await parquetSettled;
      throw err;
    });
  try {
    const outgoing: { topic: string; key: string | null; value: string; headers?: IHeaders }[] = [
      ...messages.map((r, i) => ({ topic: deps.outputTopic, key: String(r.doc_id), value: embeddingJson(r, result.vectorsJson[i]) })),
      ...result.dlq.map((d) => ({ topic: deps.dlqTopic, key: d.record.doc_id, value: JSON.stringify(d.record), headers: d.headers })),
    ];
    for (const chunk of bySize(outgoing, SEND_CHUNK_BYTES)) {
      const topics = [...new Set(chunk.map((m) => m.topic))];
      await tx.sendBatch({ topicMessages: topics.map((topic) => ({ topic, messages: chunk.filter((m) => m.topic === topic).map(({ key, value, headers }) => ({ key, value, headers })) })) });
    }
    const parquetFile = await parquet;
    await tx.sendOffsets({
      consumerGroupId: deps.group,
      topics: [{ topic: range.topic, partitions: [{ partition: range.partition, offset: (BigInt(range.lastOffset) + 1n).toString() }] }],
    });
    await tx.commit();
    return { parquetFile };
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

async function writeParquet(deps: UnitDeps, range: { topic: string; partition: number; firstOffset: string; lastOffset: string }, result: UnitResult, stillOwner: () => boolean): Promise<string | undefined> {
  if (!deps.parquet || result.rows.length === 0) return undefined;
  return deps.parquet.write(
    { topic: range.topic, partition: range.partition, firstOffset: BigInt(range.firstOffset), lastOffset: BigInt(range.lastOffset) },
    result.rows,
    () => {
      if (!stillOwner()) throw new PartitionLost("partition lost before the Parquet rename");
    },
  );
}

async function writeReddb(deps: UnitDeps, messages: Record<string, unknown>[], result: UnitResult): Promise<void> {
  if (!deps.reddb) return;
  const { sink, writeWithRetry } = deps.reddb;
  // RedDB streams have no headers: the replay count travels in the record.
  const dlq = result.dlq.map((d) => (d.replayCount > 0 ? { ...d.record, replay_count: d.replayCount } : d.record));
  await writeWithRetry(() => sink.write(messages, dlq, AbortSignal.timeout(60_000)));
}
