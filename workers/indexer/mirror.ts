import type { Logger } from "../../lib/log";
import { sha256Hex } from "../../lib/records/sha256";
import type { IndexRecord } from "../../lib/records/index-record";
import { ReddbClient, ReddbError } from "../../lib/reddb/client";
import type { PlannedPut } from "../../lib/index/vector-index";

export interface MirrorConfig {
  url: string;
  namespace: string;
  token?: string;
  stream: string;
}

/** First retry delay of a failed mirror write; doubles up to MAX_BACKOFF_MS. */
const FIRST_BACKOFF_MS = 500;
/** A RedDB outage is waited out at this pace rather than hammered. */
const MAX_BACKOFF_MS = 10_000;

/**
 * Longest KV key (UTF-8 bytes) the mirror writes as `embvec:{doc_id}`. A store
 * keeps a KV key within its own key limit (ours: LMDB's ~1,978 bytes for
 * namespace and key together), and the key travels percent-encoded in the URL
 * path (up to 3× its bytes, under Node's 16 KB header limit).
 */
export const MIRROR_KEY_MAX_BYTES = 1024;

/**
 * The KV key of a document: `embvec:{doc_id}` (the seed's), or for a doc_id
 * that would make it longer than MIRROR_KEY_MAX_BYTES, `embvec-sha256:{hex of
 * sha256(doc_id)}` — no `embvec:` key can equal it, and the value holds the
 * full doc_id. Keys of short ids, so every key written before, are unchanged.
 */
export function mirrorKvKey(docId: string): string {
  const key = `embvec:${docId}`;
  return Buffer.byteLength(key, "utf8") <= MIRROR_KEY_MAX_BYTES ? key : `embvec-sha256:${sha256Hex(docId)}`;
}

/**
 * RedDB refused this write for good: a 4xx other than 401/403/404 (token,
 * namespace: configuration, fixed by an operator), 408 and 429 (slow down).
 */
export function isPermanentRefusal(err: unknown): boolean {
  return err instanceof ReddbError && err.status >= 400 && err.status < 500 && ![401, 403, 404, 408, 429].includes(err.status);
}

/** The seed's index record of a planned document: the vector as received (unit × norm). */
export function indexRecordOf(put: PlannedPut): IndexRecord {
  const { row } = put;
  return {
    doc_id: put.docId,
    vector: Array.from(put.vector, (x) => x * row.norm),
    norm: row.norm,
    unit: row.unit,
    topic: row.topic,
    kafka_ts: row.kafka_ts,
    embedded_ts: row.embedded_ts,
    model: row.model,
  };
}

/**
 * Mirrors indexed documents to RedDB (seed): each is appended to the index
 * stream and put as KV `embvec:{doc_id}` (`mirrorKvKey`: hashed when long). It runs before the batch is committed
 * to the index, so a crash in between re-sends the batch: the KV put is
 * idempotent, the stream is at-least-once. Outages are waited out (the batch
 * waits) until `signal` aborts. A write RedDB refuses for good
 * (`isPermanentRefusal`) is logged, counted and left out: the mirror is a
 * copy, the document is still indexed, and waiting could never end.
 */
export class ReddbMirror {
  private readonly client: ReddbClient;

  constructor(
    private readonly cfg: MirrorConfig,
    private readonly log: Logger,
    private readonly onFailure: () => void,
    private readonly onRefused: () => void = () => undefined,
  ) {
    this.client = new ReddbClient({ url: cfg.url, token: cfg.token });
  }

  /** `onRetry` hears each failed write before its wait (the caller reports the stall). */
  async send(puts: PlannedPut[], signal: AbortSignal, onRetry?: (err: unknown) => void): Promise<void> {
    for (const put of puts) {
      const record = indexRecordOf(put);
      await this.retrying(() => this.client.append(this.cfg.namespace, this.cfg.stream, record, signal), signal, onRetry);
      await this.retrying(() => this.client.putKv(this.cfg.namespace, mirrorKvKey(put.docId), record, signal), signal, onRetry);
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }

  private async retrying(write: () => Promise<unknown>, signal: AbortSignal, onRetry?: (err: unknown) => void): Promise<void> {
    for (let delay = FIRST_BACKOFF_MS; ; delay = Math.min(delay * 2, MAX_BACKOFF_MS)) {
      try {
        await write();
        return;
      } catch (err) {
        signal.throwIfAborted();
        if (isPermanentRefusal(err)) {
          this.onRefused();
          this.log.error({ err: { message: (err as Error).message } }, "RedDB refused a mirror write for good; left out of the mirror");
          return;
        }
        this.onFailure();
        onRetry?.(err);
        this.log.warn({ err: { message: (err as Error).message }, retryInMs: delay }, "RedDB mirror write failed; retrying");
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
        });
        signal.throwIfAborted();
      }
    }
  }
}
