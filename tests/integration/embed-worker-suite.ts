/**
 * The fixtures every embed-worker integration file shares, written once: a
 * client of the test cluster, an instant embedding service (a test double of
 * the InferMesh wire format) for the whole file, a set of topics and the
 * worker's environment for them; after each test its workers stopped — their
 * output, and any other registered, printed when the test failed — then its
 * other resources released in reverse order and its temporary directories
 * removed. Kept apart from the harness, which benchmarks import outside vitest.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Kafka } from "kafkajs";
import { afterAll, afterEach, beforeAll, expect, inject } from "vitest";
import { createKafka } from "../../lib/kafka/client";
import { ensureTopics } from "../../lib/kafka/topics";
import { createLogger } from "../../lib/log";
import { startInstantInfermesh, type InstantInfermesh } from "../doubles/instant-infermesh";
import type { WorkerProcess } from "../harness/embed-worker";
import { readParquetDir } from "../harness/parquet";
import { readCommitted, type JsonRecord } from "../harness/read-topic";
import { unique } from "../harness/unique";

/** One test's input, output and DLQ topics and consumer group. */
export interface EmbedTopics {
  input: string;
  output: string;
  dlq: string;
  group: string;
}

/** `infermesh`: options of the file's instant embedding service, or false for none (a test that runs the real one). */
export function embedWorkerSuite(clientId: string, { infermesh: infermeshOptions = {} }: { infermesh?: Parameters<typeof startInstantInfermesh>[0] | false } = {}) {
  const brokers = inject("kafkaBrokers");
  const kafka = createKafka({ clientId, brokers, log: createLogger(clientId, "error") });
  const workers: WorkerProcess[] = [];
  const dirs: string[] = [];
  const releases: (() => Promise<unknown>)[] = [];
  const outputs: [string, () => string][] = [];
  let infermesh: InstantInfermesh | undefined;

  beforeAll(async () => {
    if (infermeshOptions !== false) infermesh = await startInstantInfermesh(infermeshOptions);
  });
  afterAll(async () => {
    await infermesh?.close();
  });
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === "fail") {
      for (const w of workers) process.stderr.write(`--- worker output\n${w.output().slice(-8000)}\n`);
      for (const [name, output] of outputs) process.stderr.write(`--- ${name}\n${output().slice(-4000)}\n`);
    }
    outputs.splice(0);
    for (const w of workers.splice(0)) await w.terminate();
    for (const release of releases.splice(0).reverse()) await release();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  return {
    brokers,
    kafka,
    /** Stopped after each test. */
    workers,
    /** The file's instant embedding service (started before its first test). */
    infermesh(): InstantInfermesh {
      if (!infermesh) throw new Error("the instant embedding service starts in beforeAll (and not with infermesh: false)");
      return infermesh;
    },
    /** A temporary directory removed after the test. */
    tmpDir(prefix: string): string {
      const d = mkdtempSync(path.join(os.tmpdir(), prefix));
      dirs.push(d);
      return d;
    },
    /** Run after the test, after its workers stopped, the last registered first (a service the workers used, a broker). */
    release(fn: () => Promise<unknown>): void {
      releases.push(fn);
    },
    /** Printed with the workers' output when the test fails. */
    printOnFailure(name: string, output: () => string): void {
      outputs.push([name, output]);
    },
    /** Topics and a group of the test's own, `partitions` each, on the test cluster or `client`'s. */
    async topics(partitions = 3, client: Kafka = kafka): Promise<EmbedTopics> {
      const t = { input: unique("in"), output: unique("out"), dlq: unique("dlq"), group: unique("group") };
      await ensureTopics(client, [t.input, t.output, t.dlq], partitions);
      return t;
    },
    /**
     * Exactly once: each of the `n` doc_ids once in the output topic
     * (read_committed) and once across the Parquet files in `parquetDir`, and
     * nothing in the DLQ. The output records, for further checks.
     */
    async expectExactlyOnce(t: EmbedTopics, n: number, parquetDir: string, client: Kafka = kafka): Promise<JsonRecord[]> {
      const out = await readCommitted(client, t.output);
      const ids = out.map((o) => String(o.value.doc_id));
      expect(ids).toHaveLength(n);
      expect(new Set(ids).size).toBe(n);
      expect(await readCommitted(client, t.dlq)).toHaveLength(0);
      const rows = readParquetDir(parquetDir).map((r) => String(r.doc_id));
      expect(rows).toHaveLength(n);
      expect(new Set(rows).size).toBe(n);
      return out;
    },
    /** The worker's environment for `t`: the test cluster, the file's embedding service (when it has one), then `extra`. */
    workerEnv(t: EmbedTopics, extra: Record<string, string> = {}): Record<string, string> {
      return {
        KAFKA_BOOTSTRAP_SERVERS: brokers.join(","),
        EMBED_INPUT_TOPIC: t.input,
        EMBED_OUTPUT_TOPIC: t.output,
        EMBED_DLQ_TOPIC: t.dlq,
        EMBED_GROUP: t.group,
        ...(infermesh ? { INFERMESH_URL: infermesh.url } : {}),
        ...extra,
      };
    },
  };
}
