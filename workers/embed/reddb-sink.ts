import type { EmbedWorkerConfig } from "../../lib/config/embed-worker";
import { ReddbError, type ReddbClient } from "../../lib/reddb/client";

type ReddbConfig = NonNullable<EmbedWorkerConfig["reddb"]>;

/** Requests to RedDB at once; its API takes one record per call. */
const CONCURRENCY = 16;

/** A record RedDB refused in a way no retry changes; it is dead-lettered instead of waited for. */
export interface ReddbRefusal {
  /** Index into the `records` given to write(). */
  index: number;
  /** `doc_id_too_long` when the refusal is about the key (`embedding:{doc_id}` in the URL), else `unprocessable`. */
  reason: "doc_id_too_long" | "unprocessable";
  error: string;
}

/**
 * A per-record refusal that cannot change on retry: a 4xx other than 408
 * (timeout) and 429 (slow down). 401/403/404 are the store's configuration
 * (token, namespace), not the record: waited out like an outage, as are
 * connection errors and 5xx.
 */
export function isPermanentRefusal(err: unknown): err is ReddbError {
  return err instanceof ReddbError && err.status >= 400 && err.status < 500 && ![401, 403, 404, 408, 429].includes(err.status);
}

/** 414 URI Too Long and 431 Request Header Fields Too Large are about the URL: the key. */
const isAboutKey = (err: ReddbError) => err.status === 414 || err.status === 431 || /\bkey\b/i.test(err.message);

/**
 * The optional RedDB sink (seed API): embedding records to stream REDDB_STREAM
 * and/or KV `embedding:{doc_id}` (REDDB_MODE), DLQ records to REDDB_DLQ_STREAM.
 * Written before the Kafka transaction commits, so a crash repeats them: KV
 * writes are idempotent (same key, same value), stream appends at-least-once.
 */
export class ReddbSink {
  constructor(
    private readonly client: ReddbClient,
    private readonly cfg: ReddbConfig,
  ) {}

  /**
   * Write `records` and `dlq`. Resolves to the records RedDB refused for good
   * (the caller dead-letters them); throws when RedDB is away (waited out). A
   * DLQ record RedDB refuses for good is left out of its stream (it is still in
   * Kafka's DLQ topic).
   */
  async write(records: Record<string, unknown>[], dlq: unknown[], signal: AbortSignal): Promise<ReddbRefusal[]> {
    const { namespace: ns, mode, stream, dlqStream } = this.cfg;
    const refused = new Map<number, ReddbRefusal>();
    const refuse = (index: number, err: unknown) => {
      if (!isPermanentRefusal(err)) throw err;
      if (!refused.has(index)) refused.set(index, { index, reason: mode !== "stream" && isAboutKey(err) ? "doc_id_too_long" : "unprocessable", error: err.message });
    };
    // doc_id is always set: derived as sha256(text) when the input had none.
    const kv =
      mode === "stream"
        ? []
        : records.map((r, i) => () => this.client.putKv(ns, `embedding:${String(r.doc_id)}`, r, signal).catch((err: unknown) => refuse(i, err)));
    // Appends go one after another so each stream keeps the records' order.
    const appendRecords = async () => {
      for (const [i, r] of records.entries()) await this.client.append(ns, stream, r, signal).catch((err: unknown) => refuse(i, err));
    };
    const appendDlq = async () => {
      for (const d of dlq) await this.client.append(ns, dlqStream, d, signal).catch((err: unknown) => {
          if (!isPermanentRefusal(err)) throw err;
        });
    };
    await Promise.all([runLimited(kv, CONCURRENCY), mode === "kv" ? undefined : appendRecords(), appendDlq()]);
    return [...refused.values()].sort((a, b) => a.index - b.index);
  }
}

async function runLimited(jobs: (() => Promise<unknown>)[], limit: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) await jobs[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
}
