import type { Kafka } from "kafkajs";
import type { RunningCommand } from "./processes";
import { unique } from "./unique";
import { waitFor } from "./wait-for";
import { launchWorker } from "./workers";

/** A Spark StreamingQueryProgress as Spark reports it (the fields the tests read). */
export interface SparkProgress {
  name: string;
  batchId: number;
  numInputRows: number;
  inputRowsPerSecond?: number;
  processedRowsPerSecond?: number;
  batchDuration: number;
  durationMs: Record<string, number>;
  sources: { description: string; startOffset: unknown; endOffset: Record<string, Record<string, number>>; latestOffset: Record<string, Record<string, number>>; numInputRows: number }[];
  sink: { description: string; numOutputRows: number };
}

/** A record of SPARK_PROGRESS_TOPIC (spark/embedline_parse/progress.py). */
export interface ProgressEvent {
  app_name: string;
  app_id: string;
  event: "started" | "progress" | "idle" | "terminated";
  query: string | null;
  ts: number;
  progress?: SparkProgress;
}

/** spark/run.ts as the launcher runs it (`--spark`), in its own process group. */
export function startSparkJob(env: Record<string, string>): RunningCommand {
  return launchWorker("spark", { env: { ...process.env, LOG_LEVEL: "info", ...env } });
}

/** Collects every event of the progress topic from the beginning, for as long as the test file runs. */
export async function followProgress(kafka: Kafka, topic: string) {
  const events: ProgressEvent[] = [];
  const consumer = kafka.consumer({ groupId: unique("progress-reader"), maxWaitTimeInMs: 250 });
  await consumer.connect();
  // A just-created topic can be missing from the broker's metadata answer for a moment; subscribe does not retry that itself.
  await waitFor(`${topic} in the broker's metadata`, async () => {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    return true;
  }, 30_000);
  await consumer.run({ eachMessage: async ({ message }) => void events.push(JSON.parse(message.value!.toString()) as ProgressEvent) });
  return { events, stop: () => consumer.disconnect() };
}

/** Offsets a Kafka source's `endOffset` must show once everything on `topic` is read. */
export function endOffsetsOf(ends: { partition: number; high: string }[]): Record<string, number> {
  return Object.fromEntries(ends.map((p) => [String(p.partition), Number(p.high)]));
}

/** Wait until the newest progress of `query` has read `topic` up to `ends`. */
export async function waitForSparkToReach(events: ProgressEvent[], query: string, topic: string, ends: Record<string, number>, job: RunningCommand, timeoutMs = 180_000) {
  return waitFor(
    `the Spark job to read ${topic} up to ${JSON.stringify(ends)}`,
    () => {
      if (job.child.exitCode !== null) throw new Error(`Spark job exited (${job.child.exitCode}):\n${job.output().slice(-4000)}`);
      const latest = events.filter((e) => e.event === "progress" && e.query === query).at(-1)?.progress;
      const reached = latest?.sources[0]?.endOffset?.[topic];
      return reached !== undefined && Object.entries(ends).every(([p, o]) => reached[p] === o) ? latest : undefined;
    },
    timeoutMs,
    250,
  );
}
