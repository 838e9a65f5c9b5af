/**
 * The topic browser's wire types: GET /api/topics and
 * GET /api/topics/{name}/messages answer these, the pages render them. No
 * runtime code, so the browser imports them as types.
 */

/** Which of the pipeline's topics this is: what writes it and what it holds. */
export type TopicRole = "ingest" | "embedding_input" | "embeddings" | "parse_dlq" | "embed_dlq" | "spark_progress";

export interface PartitionSummary {
  partition: number;
  /** Log start offset (first offset still held), a decimal string: offsets are int64. */
  start: string;
  /** End offset (high watermark): the next offset to be written. */
  end: string;
  /** Records a read_committed consumer gets in [start, end): transaction markers and aborted records count 0 (the lag figures' rule). */
  records: number;
  /** False when `records` is the offset gap (more than 1,000 offsets, not read to count). */
  exact: boolean;
  /** Bytes on disk of this partition's largest replica; null when no broker reported it. */
  size_bytes: number | null;
}

export interface TopicSummary {
  name: string;
  role: TopicRole;
  /** The stage that writes it, in words ("parse stage (Spark job or parse worker)"). */
  writer: string;
  /** Consumer groups with offsets committed on this topic (the console's own reads commit none). */
  readers: string[];
  /** False when the topic does not exist yet (nothing wrote to it); every figure below is then empty. */
  exists: boolean;
  partitions: PartitionSummary[];
  records: number;
  exact: boolean;
  /** Bytes on disk, every replica of every partition; null when no broker reported it. */
  size_bytes: number | null;
  /** -1: kept forever. Null when the broker did not say. */
  retention_ms: number | null;
  retention_bytes: number | null;
  /** `delete`, `compact` or `compact,delete`. */
  cleanup_policy: string | null;
  max_message_bytes: number | null;
}

export interface TopicsAnswer {
  topics: TopicSummary[];
  timestamp: number;
}

/**
 * Bytes as read: UTF-8 text when they are valid UTF-8, else base64. `size` is
 * of the whole; `truncated` when `data` holds only a prefix (values over the
 * preview limit; `full=1` on one record, or the export, has them whole).
 * A value that is JSON comes parsed in the message's `json`, its `data` then
 * null (unless `full=1`, which sends both).
 */
export interface ShownBytes {
  encoding: "utf8" | "base64";
  data: string | null;
  size: number;
  truncated: boolean;
}

/**
 * A numeric array of VECTOR_MIN_DIMS or more inside a JSON value, replaced in
 * `json` by `{"$vector": VectorSummary}` unless the read asked for `vectors=full`.
 */
export interface VectorSummary {
  dim: number;
  /** Euclidean norm. */
  norm: number;
  /** The first values, as stored. */
  head: number[];
}

/** A link between stages, as a console path (`/topics/embedding_input?key=…`, `/search?doc_id=…`). */
export interface MessageLink {
  rel: "source" | "embedding" | "similar" | "original";
  label: string;
  href: string;
}

/** A record's coordinates and bytes, as a page and the export show them. */
export interface ShownRecord {
  partition: number;
  offset: string;
  /** Kafka timestamp, epoch milliseconds. */
  timestamp: number;
  key: ShownBytes | null;
  headers: { key: string; value: ShownBytes | null }[];
  value: ShownBytes | null;
}

export interface TopicMessage extends ShownRecord {
  /** The value parsed, when it is JSON (whole, not truncated): vectors summarised unless `vectors=full`. */
  json?: unknown;
  links: MessageLink[];
}

export type ReadMode = "newest" | "offset" | "timestamp" | "cursor";

export interface MessagesAnswer {
  topic: string;
  mode: ReadMode;
  /** `newest`: newest first. `offset`/`timestamp`: in offset order per partition, merged by timestamp. */
  messages: TopicMessage[];
  /**
   * Where the next page starts, per partition read, as the `cursor` parameter
   * takes it (`0:120,1:98`); null when nothing is left to read now, and always
   * null for `newest` (an older page is an `offset` or `timestamp` read).
   */
  next: string | null;
  /** Offsets read to answer (more than `messages` with a key filter, or past markers and aborted records). */
  scanned: number;
  /** Null when the answer is all that was asked; else why it is short. */
  partial: { reason: "deadline" | "scan_limit"; message: string } | null;
  /** Each partition's valid range at the time of the read. */
  partitions: { partition: number; start: string; end: string }[];
  timestamp: number;
}
