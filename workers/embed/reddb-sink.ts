import type { EmbedWorkerConfig } from "../../lib/config/embed-worker";
import type { ReddbClient } from "../../lib/reddb/client";

type ReddbConfig = NonNullable<EmbedWorkerConfig["reddb"]>;

/** Requests to RedDB at once; its API takes one record per call. */
const CONCURRENCY = 16;

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

  async write(records: Record<string, unknown>[], dlq: unknown[], signal: AbortSignal): Promise<void> {
    const { namespace: ns, mode, stream, dlqStream } = this.cfg;
    // doc_id is always set: derived as sha256(text) when the input had none.
    const kv = mode === "stream" ? [] : records.map((r) => () => this.client.putKv(ns, `embedding:${String(r.doc_id)}`, r, signal));
    // Appends go one after another so each stream keeps the records' order.
    const appendAll = async (name: string, values: unknown[]) => {
      for (const v of values) await this.client.append(ns, name, v, signal);
    };
    await Promise.all([runLimited(kv, CONCURRENCY), mode === "kv" ? undefined : appendAll(stream, records), appendAll(dlqStream, dlq)]);
  }
}

async function runLimited(jobs: (() => Promise<unknown>)[], limit: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) await jobs[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
}
