import kafkajs, { type Admin, type IHeaders } from "kafkajs";

// kafkajs is CommonJS: Node's ESM loader finds only some of its named exports
// (Kafka, Partitioners…), not ConfigResourceTypes; read it from the default export.
const { ConfigResourceTypes } = kafkajs;

/**
 * Size limits of what a stage writes, checked before it is sent: the broker
 * refuses a record batch over the topic's `max.message.bytes` with an error
 * that retrying cannot fix, and a stage that only retries would stall its
 * partition for good.
 */

/** v2 record batch header (magic 2): 61 bytes. */
const BATCH_OVERHEAD_BYTES = 61;
/** One record's framing at its largest: length, attributes, timestamp and offset deltas, key and value lengths, header count (varints). */
const RECORD_OVERHEAD_BYTES = 5 + 1 + 10 + 5 + 5 + 5 + 5;
/** One header's framing: key and value length varints. */
const HEADER_OVERHEAD_BYTES = 10;

export interface OutgoingRecord {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: IHeaders;
}

const bytes = (v: Buffer | string | null | undefined) => (v === null || v === undefined ? 0 : Buffer.byteLength(v));

/** Upper bound of the bytes one record takes in a record batch, framing included. */
export function recordBytes(r: OutgoingRecord): number {
  let n = RECORD_OVERHEAD_BYTES + bytes(r.key) + bytes(r.value);
  for (const [k, v] of Object.entries(r.headers ?? {})) {
    for (const one of Array.isArray(v) ? v : [v]) n += HEADER_OVERHEAD_BYTES + Buffer.byteLength(k) + bytes(one);
  }
  return n;
}

/** True when `r`, sent alone, makes a batch the broker accepts under `maxMessageBytes`. */
export function fitsAlone(r: OutgoingRecord, maxMessageBytes: number): boolean {
  return BATCH_OVERHEAD_BYTES + recordBytes(r) <= maxMessageBytes;
}

/** Most bytes of record payload (value, and key and headers with framing) one record may carry under `maxMessageBytes`. */
export function payloadBudget(maxMessageBytes: number): number {
  return maxMessageBytes - BATCH_OVERHEAD_BYTES - RECORD_OVERHEAD_BYTES;
}

/**
 * Consecutive runs of `records` that each make one batch of at most
 * `maxBatchBytes` (a record larger than that goes alone: check it with
 * `fitsAlone` first). kafkajs sends one batch per partition per request and
 * does not split by size.
 */
export function* chunkRecords<T extends OutgoingRecord>(records: T[], maxBatchBytes: number): Generator<T[]> {
  let chunk: T[] = [];
  let size = BATCH_OVERHEAD_BYTES;
  for (const r of records) {
    const n = recordBytes(r);
    if (chunk.length > 0 && size + n > maxBatchBytes) {
      yield chunk;
      chunk = [];
      size = BATCH_OVERHEAD_BYTES;
    }
    chunk.push(r);
    size += n;
  }
  if (chunk.length > 0) yield chunk;
}

/** The broker's default `message.max.bytes` (1 MiB + 12), used until the topic's own value has been read. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

/**
 * Each topic's `max.message.bytes` as the broker reports it (the topic's own
 * setting, or the broker default it inherits), read once and again after
 * `refreshMs` or when a send was refused as too large (`invalidate`), so a
 * limit changed at run time is picked up.
 */
export class TopicLimits {
  private readonly cache = new Map<string, { value: number; readAt: number }>();

  constructor(
    private readonly admin: Pick<Admin, "describeConfigs">,
    private readonly refreshMs = 60_000,
  ) {}

  async maxMessageBytes(topic: string): Promise<number> {
    const hit = this.cache.get(topic);
    if (hit && Date.now() - hit.readAt < this.refreshMs) return hit.value;
    const res = await this.admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ["max.message.bytes"] }],
    });
    const entry = res.resources[0]?.configEntries.find((e) => e.configName === "max.message.bytes");
    const value = Number(entry?.configValue);
    const limit = Number.isSafeInteger(value) && value > 0 ? value : DEFAULT_MAX_MESSAGE_BYTES;
    this.cache.set(topic, { value: limit, readAt: Date.now() });
    return limit;
  }

  invalidate(topic: string): void {
    this.cache.delete(topic);
  }
}
