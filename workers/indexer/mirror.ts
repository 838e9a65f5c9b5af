import type { Logger } from "../../lib/log";
import type { IndexRecord } from "../../lib/records/index-record";
import { ReddbClient } from "../../lib/reddb/client";
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
 * stream and put as KV `embvec:{doc_id}`. It runs before the batch is committed
 * to the index, so a crash in between re-sends the batch: the KV put is
 * idempotent, the stream is at-least-once. Outages are waited out (the batch
 * waits) until `signal` aborts.
 */
export class ReddbMirror {
  private readonly client: ReddbClient;

  constructor(
    private readonly cfg: MirrorConfig,
    private readonly log: Logger,
    private readonly onFailure: () => void,
  ) {
    this.client = new ReddbClient({ url: cfg.url, token: cfg.token });
  }

  async send(puts: PlannedPut[], signal: AbortSignal): Promise<void> {
    for (const put of puts) {
      const record = indexRecordOf(put);
      await this.retrying(() => this.client.append(this.cfg.namespace, this.cfg.stream, record, signal), signal);
      await this.retrying(() => this.client.putKv(this.cfg.namespace, `embvec:${put.docId}`, record, signal), signal);
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }

  private async retrying(write: () => Promise<unknown>, signal: AbortSignal): Promise<void> {
    for (let delay = FIRST_BACKOFF_MS; ; delay = Math.min(delay * 2, MAX_BACKOFF_MS)) {
      try {
        await write();
        return;
      } catch (err) {
        signal.throwIfAborted();
        this.onFailure();
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
