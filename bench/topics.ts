/**
 * npm run bench:topics → bench/results/topics.json
 *
 * The console's Kafka reads on a real broker, through the console's own code
 * (route handlers and lib/, called as tests/integration/topics.test.ts calls
 * them) in a console process of its own that this bench starts with the
 * console's environment (this file with `--console`), after writing the data:
 *  1. the DLQ (lib/dlq/source.ts readDlq, lib/upstreams/dlq-counts.ts
 *     dlqCountsPoll) on --dlq entries (default 20,000) in today's shape
 *     (serializeDlqWithOriginal), written in transactions as the workers
 *     write them, half to each DLQ topic: newest 500, newest 10,000, a fresh
 *     poller's first count, a warm poller's later polls;
 *  2. the topic browser on an `embeddings`-shaped topic of --records records
 *     (default 100,000: 384-dim vectors as the default model makes, ≈ 8 KB a
 *     record), 3 partitions, written in transactions of 64 as the embed-worker
 *     writes them: GET /api/topics (the process's first call and later ones),
 *     messages pages (newest 50, from an offset, from a time, by key:
 *     near the end and absent), and exports (newest 10,000 and the whole
 *     topic: records/s, MB/s, the console process's peak RSS sampled every 50 ms).
 * Each figure is the median (and p95, nearest rank) of --runs runs (default 7;
 * 3 for reads that take seconds). Uses KAFKA_BOOTSTRAP_SERVERS when set, else
 * a broker of its own on free ports in a temp dir. Its topics are deleted at
 * the end.
 *
 *   npm run bench:topics [-- --records=100000 --dlq=20000 --runs=7]
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import path from "node:path";
import { Partitioners, type Kafka } from "kafkajs";
import { inheritedEnv } from "../lib/config/load";
import { parseStackConfig } from "../lib/config/stack";
import { createKafka } from "../lib/kafka/client";
import { createLogger } from "../lib/log";
import { serializeDlqWithOriginal } from "../lib/records/dlq-original";
import { serializeEmbeddingRecord } from "../lib/records/embedding-record";
import { benchBroker } from "../tests/harness/bench-broker";
import { createTopics } from "../tests/harness/kafka-topics";
import { percentileOf } from "../tests/harness/percentile";
import { unique } from "../tests/harness/unique";

const root = path.resolve(import.meta.dirname, "..");
const arg = (name: string, dflt: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? dflt);
const RECORDS = arg("records", 100_000);
const DLQ_ENTRIES = arg("dlq", 20_000);
const RUNS = arg("runs", 7);
/** Reads that take seconds each (a key scan to its deadline, a whole export): fewer runs. */
const SLOW_RUNS = Math.min(RUNS, 3);
const PARTITIONS = 3;
const DIM = 384;
/** The embed-worker's default EMBED_BATCH_SIZE: one transaction per batch. */
const BATCH = 64;
/** The times inside the values (kafka_ts, embedded_ts, a DLQ entry's ts): 10 ms apart from here. Kafka's record timestamps are the producer's clock, as the workers leave them. */
const T0 = Date.UTC(2026, 0, 1);
const STEP_MS = 10;
/** The record a read from a time starts at: the middle of the topic. */
const AT_INDEX = Math.floor(RECORDS / 2);

const log = createLogger("bench-topics", "warn");
const load = () => loadavg().map((x) => Math.round(x * 100) / 100);
const ms = (x: number) => Math.round(x * 10) / 10;
const stats = (samples: number[]) => ({ median: ms(percentileOf(samples, 50)), p95: ms(percentileOf(samples, 95)), runs: samples.length });
const rssMb = () => Math.round((process.memoryUsage().rss / 2 ** 20) * 10) / 10;

const topics = {
  raw: unique("bench-agent-results"),
  embedInput: unique("bench-embedding-input"),
  embeddings: unique("bench-embeddings"),
  parseDlq: unique("bench-parse-dlq"),
  embedDlq: unique("bench-embed-dlq"),
  progress: unique("bench-spark-progress"),
};

const docId = (i: number) => `bench-doc-${String(i).padStart(7, "0")}`;

/** A unit vector of float32 values written as the worker writes them (JSON numbers of a float32, ~20 characters each). */
function vector(): number[] {
  const v = Array.from({ length: DIM }, () => Math.random() - 0.5);
  const norm = Math.hypot(...v);
  return v.map((x) => Math.fround(x / norm));
}

const embeddingValue = (i: number) =>
  serializeEmbeddingRecord({ topic: topics.raw, text: `the operator reads record number ${i} of the bench, about ten words long`, doc_id: docId(i), vector: vector(), kafka_ts: (T0 + i * STEP_MS) / 1000, embedded_ts: (T0 + i * STEP_MS) / 1000 + 1, model: "sentence-transformers/all-MiniLM-L6-v2", dim: DIM, normalized: true });

function dlqValue(i: number, stage: "parse" | "embed"): string {
  const ts = (T0 + i * STEP_MS) / 1000;
  const original = Buffer.from(JSON.stringify({ text: `an agent result number ${i} that could not be embedded `.repeat(8), doc_id: `dlq-${i}` }));
  return stage === "parse"
    ? serializeDlqWithOriginal({ text: null, topic: null, kafka_ts: ts, doc_id: null, reason: "invalid_unicode", error: "value is not valid UTF-8", attempts: 1, ts, model: null, stage, source: { topic: topics.raw, partition: i % PARTITIONS, offset: String(i), timestamp: ts } }, { key: Buffer.from(`dlq-${i}`), value: original }, 1_000_000)
    : serializeDlqWithOriginal({ text: "x", topic: topics.raw, kafka_ts: ts, doc_id: `dlq-${i}`, reason: "provider_rejected", error: "the embedding service answered 422", attempts: 1, ts, model: "m", stage, source: { topic: topics.embedInput, partition: i % PARTITIONS, offset: String(i), timestamp: ts } }, { key: Buffer.from(`dlq-${i}`), value: original }, 1_000_000);
}

/** `count` records from `valueOf`, keyed by doc id, in transactions of BATCH as the workers write (commit markers on every partition each one touched). */
async function writeTransactions(kafka: Kafka, count: number, messagesOf: (i: number) => { topic: string; key: string; value: string }): Promise<{ seconds: number; bytes: number }> {
  // A transaction begun right after the last commit is refused with CONCURRENT_TRANSACTIONS until the
  // coordinator has written that commit's markers; kafkajs retries it after 300 ms by default, which
  // would make writing the topic take minutes longer. A 20 ms first retry changes only the writing time.
  const producer = kafka.producer({ transactionalId: unique("bench-topics-tx"), idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner, retry: { initialRetryTime: 20, retries: 10 } });
  await producer.connect();
  const t0 = performance.now();
  let bytes = 0;
  try {
    for (let from = 0; from < count; from += BATCH) {
      const byTopic = new Map<string, { key: string; value: string }[]>();
      for (let i = from; i < Math.min(count, from + BATCH); i++) {
        const { topic, ...m } = messagesOf(i);
        bytes += m.value.length;
        byTopic.set(topic, [...(byTopic.get(topic) ?? []), m]);
      }
      const tx = await producer.transaction();
      await tx.sendBatch({ topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
      await tx.commit();
      if (from % (BATCH * 200) === 0) process.stdout.write(`\r  wrote ${from.toLocaleString("en-US")} / ${count.toLocaleString("en-US")}`);
    }
  } finally {
    await producer.disconnect();
  }
  process.stdout.write("\n");
  return { seconds: (performance.now() - t0) / 1000, bytes };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

async function repeat<T>(runs: number, fn: () => Promise<T>): Promise<{ samples: number[]; last: T }> {
  const samples: number[] = [];
  let last!: T;
  for (let r = 0; r < runs; r++) {
    const t = await timed(fn);
    samples.push(t.ms);
    last = t.value;
  }
  return { samples, last };
}

/** Measures, in the console process this bench starts (`--console`), with the console's environment as the bench gave it. */
async function measureAsConsole(): Promise<void> {
  const { consoleConfig } = await import("../lib/config/console");
  const { readDlq } = await import("../lib/dlq/source");
  const { dlqCountsPoll } = await import("../lib/upstreams/dlq-counts");
  const { GET: topicsGet } = await import("../app/api/topics/route");
  const { GET: messagesGet } = await import("../app/api/topics/[name]/messages/route");
  const { GET: exportGet } = await import("../app/api/topics/[name]/export/route");
  const embeddings = consoleConfig().topics.embeddings;
  const rssAtStart = rssMb();

  // 1. DLQ.
  const dlqRead = (limit: number) => async () => {
    const r = await readDlq({ limit }, AbortSignal.timeout(120_000));
    if (r.items.length !== Math.min(limit, DLQ_ENTRIES) || r.partial) throw new Error(`readDlq(${limit}) gave ${r.items.length} entries${r.partial ? `, partial: ${r.partial.message}` : ""}`);
    return r.items.length;
  };
  const loadBeforeDlq = load();
  const dlqFirstRead = await timed(dlqRead(500)); // the console's first Kafka read: connections opened
  const dlq500 = await repeat(RUNS, dlqRead(500));
  const dlq10k = await repeat(RUNS, dlqRead(10_000));
  const countOnce = async (poll: ReturnType<typeof dlqCountsPoll>) => {
    const e = await poll(AbortSignal.timeout(60_000));
    if ("error" in e || e.total !== DLQ_ENTRIES || !e.complete) throw new Error(`DLQ count: ${JSON.stringify(e)}`);
    return e.total;
  };
  // A fresh poller each time: what a console that just started reads on its first poll.
  const firstCount = await repeat(RUNS, () => countOnce(dlqCountsPoll()));
  const warm = dlqCountsPoll();
  await countOnce(warm);
  const laterPolls = await repeat(Math.max(RUNS, 10), () => countOnce(warm));
  const dlq = {
    first_read_of_the_process_ms: ms(dlqFirstRead.ms),
    newest_500_ms: stats(dlq500.samples),
    newest_10000_ms: stats(dlq10k.samples),
    first_count_ms: stats(firstCount.samples),
    later_poll_ms: stats(laterPolls.samples),
    load_avg_before: loadBeforeDlq,
    load_avg_after: load(),
  };
  console.error(JSON.stringify({ dlq }));

  // 2. Topic browser.
  const loadBeforeReads = load();
  const base = "http://console.bench/api/topics";
  const ctx = { params: Promise.resolve({ name: embeddings }) };
  const listTopics = async () => {
    const res = await topicsGet(new Request(base), { params: Promise.resolve({}) });
    const body = (await res.json()) as { topics: { name: string; records: number; exact: boolean; size_bytes: number | null }[] };
    const emb = body.topics.find((t) => t.name === embeddings);
    // Over EXACT_GAP_MAX offsets a partition's count is its offset gap (markers included), flagged not exact.
    if (res.status !== 200 || !emb || emb.records < RECORDS || (emb.exact && emb.records !== RECORDS)) throw new Error(`GET /api/topics: ${res.status} ${JSON.stringify(emb)}`);
    return emb;
  };
  const cold = await timed(listTopics);
  const warmList = await repeat(RUNS, listTopics);

  type Answer = { messages: { key: { data: string } | null; offset: string; timestamp: number }[]; scanned: number; partial: { reason: string } | null };
  const page = (query: string, expect: (a: Answer) => boolean) => async () => {
    const res = await messagesGet(new Request(`${base}/${embeddings}/messages?${query}`), ctx);
    const body = (await res.json()) as Answer;
    if (res.status !== 200 || !expect(body)) throw new Error(`messages?${query}: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
    return { shown: body.messages.length, scanned: body.scanned, partial: body.partial?.reason ?? null };
  };
  const indexOf = (m: Answer["messages"][number]) => Number(m.key?.data.slice("bench-doc-".length));
  // Records of one transaction share its send time: the newest 50 are the last transactions' records, in no fixed order among them.
  const newest = await repeat(RUNS, page("limit=50", (a) => a.messages.length === 50 && a.messages.every((m) => indexOf(m) >= RECORDS - 3 * BATCH)));
  const fromOffset = await repeat(RUNS, page("partition=0&offset=500&limit=50", (a) => a.messages.length === 50 && a.messages[0]?.offset === "500"));
  const atMs = arg("at-ms", NaN);
  // Records stamped at or after the time, from the middle record's transaction on (that batch's records share its stamp).
  const fromTime = await repeat(RUNS, page(`timestamp=${atMs}&limit=50`, (a) => a.messages.length === 50 && a.messages.every((m) => m.timestamp >= atMs && Math.abs(indexOf(m) - AT_INDEX) < 4 * BATCH)));
  const nearEnd = docId(Math.max(0, RECORDS - 1000));
  const keyNearEnd1 = await repeat(RUNS, page(`key=${nearEnd}&limit=1`, (a) => a.messages.length === 1));
  const keyNearEnd50 = await repeat(SLOW_RUNS, page(`key=${nearEnd}`, (a) => a.messages.length === 1));
  const keyAbsent = await repeat(SLOW_RUNS, page(`key=${docId(RECORDS + 1)}`, (a) => a.messages.length === 0));
  const loadAfterPages = load();

  const exportOf = async (query: string, expectRows: number) => {
    const rssBefore = rssMb();
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb())), 50);
    const t0 = performance.now();
    let bytes = 0;
    let rows = 0;
    try {
      const res = await exportGet(new Request(`${base}/${embeddings}/export?${query}`), ctx);
      if (res.status !== 200 || !res.body) throw new Error(`export?${query}: ${res.status} ${await res.text()}`);
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        bytes += chunk.byteLength;
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) rows++;
      }
    } finally {
      clearInterval(sampler);
    }
    const seconds = (performance.now() - t0) / 1000;
    if (rows !== expectRows) throw new Error(`export?${query} gave ${rows} rows, not ${expectRows}`);
    return { seconds, bytes, records_per_sec: Math.round(rows / seconds), mb_per_sec: Math.round((bytes / 1e6 / seconds) * 10) / 10, rss_mb_before: rssBefore, rss_mb_peak: Math.max(peak, rssMb()) };
  };
  const exportRuns = async (query: string, rows: number) => {
    const runs = [];
    for (let r = 0; r < SLOW_RUNS; r++) runs.push(await exportOf(query, rows));
    return {
      query,
      rows,
      bytes: runs[0]!.bytes,
      ms: stats(runs.map((r) => r.seconds * 1000)),
      records_per_sec: Math.round(percentileOf(runs.map((r) => r.records_per_sec), 50)),
      mb_per_sec: percentileOf(runs.map((r) => r.mb_per_sec), 50),
      rss_mb_before: runs.map((r) => r.rss_mb_before),
      rss_mb_peak: runs.map((r) => r.rss_mb_peak),
    };
  };
  const export10k = await exportRuns("limit=10000", Math.min(10_000, RECORDS));
  const exportAll = await exportRuns("limit=all", RECORDS);

  const pageResult = (r: { samples: number[]; last: { shown: number; scanned: number; partial: string | null } }) => ({ ms: stats(r.samples), shown: r.last.shown, scanned_offsets: r.last.scanned, partial: r.last.partial });
  const topicBrowser = {
    size_on_disk_bytes: cold.value.size_bytes,
    load_avg_before: loadBeforeReads,
    load_avg_after_pages: loadAfterPages,
    load_avg_after_exports: load(),
    console_rss_mb_at_start: rssAtStart,
    list_topics_ms: { cold: ms(cold.ms), warm: stats(warmList.samples), records_shown: cold.value.records, exact: cold.value.exact },
    newest_50: pageResult(newest),
    from_offset_500_partition_0_50: pageResult(fromOffset),
    from_timestamp_50: { at_ms: atMs, near_record: docId(AT_INDEX), ...pageResult(fromTime) },
    key_near_end_limit_1: { key: nearEnd, records_after_it: RECORDS - 1 - Math.max(0, RECORDS - 1000), ...pageResult(keyNearEnd1) },
    key_near_end_limit_50: { key: nearEnd, note: "the page's default limit: the read looks for 50 matches, so it goes on past the one it found", ...pageResult(keyNearEnd50) },
    key_absent: { key: docId(RECORDS + 1), ...pageResult(keyAbsent) },
    export_newest_10000: export10k,
    export_all: exportAll,
  };
  // The result, as the last line on stdout, for the bench process.
  process.stdout.write(`${JSON.stringify({ dlq, topicBrowser })}\n`);
}

/** Starts the console process (this file with `--console`, the same node flags) with the console's environment; resolves to what it measured. */
async function runConsole(env: NodeJS.ProcessEnv, atMs: number): Promise<{ dlq: Record<string, unknown>; topicBrowser: Record<string, unknown> }> {
  const child = spawn(process.execPath, [...process.execArgv, import.meta.filename, "--console", `--at-ms=${atMs}`, ...process.argv.slice(2)], { cwd: root, env, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  if (code !== 0) throw new Error(`the console process exited with ${code}`);
  return JSON.parse(out.trim().split("\n").at(-1)!);
}

async function main() {
  const loadAtStart = load();
  // What the console process will load, loaded here first (nothing runs on import): a module that fails to load fails the run before minutes of writing.
  await Promise.all([import("../lib/dlq/source"), import("../lib/upstreams/dlq-counts"), import("../app/api/topics/route"), import("../app/api/topics/[name]/messages/route"), import("../app/api/topics/[name]/export/route")]);
  const stack = parseStackConfig(inheritedEnv());
  const broker = await benchBroker(stack, "bench-topics", log);
  const brokers = broker.brokers;
  const kafka = createKafka({ clientId: "bench-topics", brokers, log: createLogger("bench-topics-kafka", "silent") });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await createTopics(kafka, [topics.embeddings, topics.parseDlq, topics.embedDlq, topics.embedInput, topics.raw], PARTITIONS);
    console.log(`writing ${DLQ_ENTRIES.toLocaleString("en-US")} DLQ entries`);
    const dlqWrite = await writeTransactions(kafka, DLQ_ENTRIES, (i) => {
      const stage = i % 2 === 0 ? "parse" : "embed";
      return { topic: stage === "parse" ? topics.parseDlq : topics.embedDlq, key: `dlq-${i}`, value: dlqValue(i, stage) };
    });
    console.log(`writing ${RECORDS.toLocaleString("en-US")} embeddings records`);
    // The time just before the middle record's transaction was sent: kafkajs stamps a batch's records when it sends them.
    let atMs = NaN;
    const write = await writeTransactions(kafka, RECORDS, (i) => {
      if (i === AT_INDEX) atMs = Date.now();
      return { topic: topics.embeddings, key: docId(i), value: embeddingValue(i) };
    });
    const groups = (await admin.listGroups()).groups.length;

    // The console's environment, as tests/integration/topics.test.ts sets it: no token, no RedDB.
    const inherited = inheritedEnv();
    delete inherited.CONSOLE_TOKEN;
    delete inherited.REDDB_URL;
    console.log("measuring in the console process");
    const measured = await runConsole({
      ...inherited,
      KAFKA_BOOTSTRAP_SERVERS: brokers.join(","),
      SPARK_KAFKA_TOPICS: topics.raw,
      EMBED_INPUT_TOPIC: topics.embedInput,
      EMBED_OUTPUT_TOPIC: topics.embeddings,
      PARSE_DLQ_TOPIC: topics.parseDlq,
      EMBED_DLQ_TOPIC: topics.embedDlq,
      SPARK_PROGRESS_TOPIC: topics.progress,
      LOG_LEVEL: "warn",
    }, atMs);

    const result = {
      generated_at: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        cpu_model: cpus()[0]?.model,
        node: process.version,
        load_avg_at_start: loadAtStart,
        load_avg_at_end: load(),
        note: "2 cores shared by the broker, the console process, this bench (idle while the console measures) and whatever else runs on the machine; load averages are 1, 5 and 15 min, also recorded before and after each part",
      },
      setup: {
        kafka: broker.own ? "local single-node KRaft broker started by the bench" : "KAFKA_BOOTSTRAP_SERVERS",
        /** GET /api/topics asks each consumer group of the broker for its offsets: a shared broker with many groups makes it slower. */
        broker_consumer_groups: groups,
        console: "a node process of the bench's (tsx, react-server conditions) calling the console's route handlers and lib/ with the console's environment, as tests/integration/topics.test.ts does: no HTTP server in between, so times exclude Next's routing and the network; RSS is that process's (process.memoryUsage().rss every 50 ms)",
        node_flags: process.execArgv,
        runs: RUNS,
        slow_runs: SLOW_RUNS,
        percentile: "nearest rank (tests/harness/percentile.ts)",
      },
      dlq: {
        entries: DLQ_ENTRIES,
        layout: `${PARTITIONS} partitions per DLQ topic, half the entries on each of PARSE_DLQ_TOPIC and EMBED_DLQ_TOPIC, transactions of ${BATCH} (each leaves a commit marker on every partition it wrote)`,
        entry_bytes_avg: Math.round(dlqWrite.bytes / DLQ_ENTRIES),
        write_seconds: ms(dlqWrite.seconds),
        ...measured.dlq,
      },
      topic_browser: {
        topic: {
          records: RECORDS,
          partitions: PARTITIONS,
          dim: DIM,
          writes: `transactions of ${BATCH} records keyed by doc_id (default partitioner), as the embed-worker writes; record timestamps the producer's clock at send, as the worker leaves them`,
          record_bytes_avg: Math.round(write.bytes / RECORDS),
          write_seconds: ms(write.seconds),
        },
        ...measured.topicBrowser,
      },
    };
    mkdirSync(path.join(root, "bench/results"), { recursive: true });
    writeFileSync(path.join(root, "bench/results/topics.json"), `${JSON.stringify(result, null, 2)}\n`);
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await admin.deleteTopics({ topics: Object.values(topics).filter((t) => t !== topics.progress) }).catch((err: unknown) => console.error(`could not delete the bench's topics: ${(err as Error).message}`));
    await admin.disconnect();
    await broker.stop();
  }
}

(process.argv.includes("--console") ? measureAsConsole() : main()).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench:topics failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
