import { sha256 } from "./sha256";

/** Default of EMB_INDEX_SHARDS. */
export const DEFAULT_SHARDS = 32;

/**
 * The index shard of a document: the SHA-256 digest of the doc_id's UTF-8
 * bytes read as one big-endian unsigned 256-bit integer, modulo `shards`.
 * (For a power of two such as 32 only the last byte matters; the whole digest
 * is used so any shard count gives the same answer as Python's
 * `int.from_bytes(sha256(doc_id.encode()).digest(), "big") % shards`.)
 */
export function shardOf(docId: string, shards: number = DEFAULT_SHARDS): number {
  if (!Number.isSafeInteger(shards) || shards < 1) throw new RangeError(`shards must be a positive integer, got ${shards}`);
  const digest = BigInt(`0x${sha256(docId).toString("hex")}`);
  return Number(digest % BigInt(shards));
}
