/**
 * The hooks every embed-worker integration file needs, written once: a client
 * of the test cluster, an instant embedding service (a test double of the
 * InferMesh wire format) for the whole file, and after each test its workers
 * stopped — their output printed when the test failed — and its temporary
 * directories removed. Kept apart from the harness, which benchmarks import
 * outside vitest.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, inject } from "vitest";
import { createKafka } from "../../lib/kafka/client";
import { createLogger } from "../../lib/log";
import { startInstantInfermesh, type InstantInfermesh } from "../doubles/instant-infermesh";
import type { WorkerProcess } from "../harness/embed-worker";

export function embedWorkerSuite(clientId: string) {
  const brokers = inject("kafkaBrokers");
  const kafka = createKafka({ clientId, brokers, log: createLogger(clientId, "error") });
  const workers: WorkerProcess[] = [];
  const dirs: string[] = [];
  let infermesh: InstantInfermesh | undefined;

  beforeAll(async () => {
    infermesh = await startInstantInfermesh();
  });
  afterAll(async () => {
    await infermesh?.close();
  });
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === "fail") for (const w of workers) process.stderr.write(`--- worker output\n${w.output().slice(-8000)}\n`);
    for (const w of workers.splice(0)) await w.terminate();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  return {
    brokers,
    kafka,
    /** Stopped after each test. */
    workers,
    /** Removed after each test. */
    dirs,
    /** The file's instant embedding service (started before its first test). */
    infermesh(): InstantInfermesh {
      if (!infermesh) throw new Error("the instant embedding service starts in beforeAll");
      return infermesh;
    },
    /** A temporary directory removed after the test. */
    tmpDir(prefix: string): string {
      const d = mkdtempSync(path.join(os.tmpdir(), prefix));
      dirs.push(d);
      return d;
    },
  };
}
