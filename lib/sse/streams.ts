import "server-only";
import { consoleConfig } from "@/lib/config/console";
import { dlqCountsPoll } from "@/lib/upstreams/dlq-counts";
import { embedWorkerPoll } from "@/lib/upstreams/embed-worker";
import { indexerPoll } from "@/lib/upstreams/indexer";
import { infermeshPoll } from "@/lib/upstreams/infermesh";
import { lagPoll } from "@/lib/upstreams/lag";
import { parquetDirWatcher } from "@/lib/upstreams/parquet-dir";
import { nowSec } from "@/lib/upstreams/rate";
import { sparkPoll } from "@/lib/upstreams/spark";
import { Poller } from "./poller";
import { sharedPoller } from "./registry";

/** The console's streams: name → poll interval (the seed's 3 s / 5 s) and poll function. */
const definitions = {
  infermesh: { intervalMs: 3_000, poll: infermeshPoll },
  vectorizer: { intervalMs: 3_000, poll: vectorizerPoll },
  "embed-worker": { intervalMs: 3_000, poll: embedWorkerPoll },
  // Spark's REST API is slower to answer and its micro-batches are ≥ 1 s: 5 s as in the seed.
  spark: { intervalMs: 5_000, poll: sparkPoll },
  indexer: { intervalMs: 3_000, poll: indexerPoll },
  lag: { intervalMs: 3_000, poll: lagPoll },
  // Entries in both Kafka DLQs per stage; each poll reads only what was added since the last.
  dlq: { intervalMs: 5_000, poll: dlqCountsPoll },
} satisfies Record<string, { intervalMs: number; poll: () => (signal: AbortSignal) => Promise<unknown> }>;

export type StreamName = keyof typeof definitions;
export const STREAM_NAMES = Object.keys(definitions) as StreamName[];

/** The process-wide poller of a stream, created on first use. */
export function streamPoller(name: StreamName): Poller<unknown> {
  return sharedPoller(`stream:${name}`, () => {
    const d = definitions[name];
    return new Poller<unknown>({ event: name, intervalMs: d.intervalMs, history: consoleConfig().sse.history, poll: d.poll() });
  });
}

/** `/api/vectorizer/stream`: the parse stage's Parquet (VEC_OUTPUT_DIR, the seed's panel) and the embed-worker's. */
function vectorizerPoll() {
  const { parquet } = consoleConfig();
  const vectorizer = parquetDirWatcher(parquet.vectorizerDir);
  const embeddings = parquetDirWatcher(parquet.embedDir);
  return async () => {
    const [v, e] = await Promise.all([vectorizer(), embeddings()]);
    return { ...v, embeddings: e, timestamp: nowSec() };
  };
}
