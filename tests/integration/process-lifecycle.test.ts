/**
 * The workers' process lifecycle (lib/process/lifecycle.ts): crashes are
 * logged and end the process non-zero, start-up failures that are transient
 * are retried with backoff (the indexer started while Kafka is unreachable
 * comes up once it is reachable), the shutdown deadline holds, signals work
 * at any point, and a bad config value is one line and exit 2.
 */
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, describe, expect, inject, it } from "vitest";
import { freePort } from "../harness/free-port";
import { createTopics } from "../harness/kafka-topics";
import { unique } from "../harness/unique";
import { waitFor } from "../harness/wait-for";
import { launchScript, launchWorker } from "../harness/workers";
import type { RunningCommand } from "../harness/processes";

const started: RunningCommand[] = [];
const cleanups: (() => void)[] = [];
afterAll(async () => {
  for (const p of started) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill("SIGKILL");
      await p.exited;
    }
  }
  for (const c of cleanups) c();
});

/** A worker of the stack by its launcher name, or a fixture program of the tests (a .ts path). */
function run(what: string, env: Record<string, string>): RunningCommand {
  const opts = { env: { ...process.env, ...env } };
  const p = what.endsWith(".ts") ? launchScript(what, opts) : launchWorker(what, opts);
  started.push(p);
  return p;
}

async function fixture(lifecycleCase: string, env: Record<string, string> = {}) {
  const port = await freePort();
  const p = run("tests/integration/fixtures/lifecycle-process.ts", { LIFECYCLE_CASE: lifecycleCase, LIFECYCLE_PORT: String(port), LOG_LEVEL: "info", ...env });
  return { p, port };
}

/**
 * Kafka "comes back" on `port`: a TCP relay to the real broker. The broker's
 * metadata then points the client at the broker itself.
 */
async function relayKafkaOn(port: number, broker: string): Promise<void> {
  const [host, brokerPort] = broker.split(":") as [string, string];
  const relay = net.createServer((client) => {
    const upstream = net.connect(Number(brokerPort), host);
    client.pipe(upstream).pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  await new Promise<void>((r) => relay.listen(port, "127.0.0.1", r));
  cleanups.push(() => relay.close());
}

const retried = (p: RunningCommand) => () => p.output().includes("failed to start; retrying") || (p.child.exitCode !== null && Promise.reject(new Error(p.output())));

const ready = (p: RunningCommand) => waitFor("the fixture to be ready", () => p.output().includes("fixture ready") || (p.child.exitCode !== null && Promise.reject(new Error(p.output()))), 30_000);

describe("process lifecycle", () => {
  it.each([
    ["an uncaught exception", "uncaught", "uncaught exception; exiting", "a bug outside any request"],
    ["an unhandled rejection", "rejection", "unhandled rejection; exiting", "a promise nobody awaited"],
  ])("logs %s and exits 1", async (_what, lifecycleCase, msg, detail) => {
    const { p } = await fixture(lifecycleCase);
    expect(await p.exited).toBe(1);
    const fatal = p.output().split("\n").find((l) => l.includes(msg));
    expect(fatal).toBeDefined();
    expect(fatal).toContain(detail);
  });

  it("stops on SIGTERM: closers run, exit 0", async () => {
    const { p } = await fixture("none");
    await ready(p);
    p.child.kill("SIGTERM");
    expect(await p.exited).toBe(0);
    expect(p.output()).toContain("fixture closer ran");
  });

  it("exits 1 at the shutdown deadline when a closer hangs", async () => {
    const { p } = await fixture("hang-on-stop", { SHUTDOWN_TIMEOUT_SEC: "1" });
    await ready(p);
    const t0 = Date.now();
    p.child.kill("SIGTERM");
    expect(await p.exited).toBe(1);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(p.output()).toContain("shutdown timed out; exiting");
  });

  it("retries a transient start-up failure with backoff, and a signal meanwhile stops it cleanly", async () => {
    const { p, port } = await fixture("transient-start");
    await waitFor("two retries", () => p.output().split("fixture start failed to start; retrying").length > 2, 30_000);
    expect(p.child.exitCode).toBeNull();
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
    p.child.kill("SIGINT");
    expect(await p.exited).toBe(0);
  });

  it("stops with exit 1 on a start-up failure that is not transient", async () => {
    const { p } = await fixture("fatal-start");
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain("fixture start failed; stopping");
  });

  it("ends a bad configuration value with one line and exit 2", async () => {
    const { p } = await fixture("none", { LOG_LEVEL: "loud" });
    expect(await p.exited).toBe(2);
    expect(p.output().trim()).toMatch(/^embedline: invalid configuration: LOG_LEVEL="loud": /);
  });

  it("starts the indexer while Kafka is unreachable, retries, and is ok once Kafka is there", async () => {
    const brokers = inject("kafkaBrokers");
    const kafka = new Kafka({ clientId: "it-lifecycle", brokers, logLevel: logLevel.NOTHING });
    const topic = unique("lifecycle-embeddings");
    await createTopics(kafka, [topic], 1);
    const dir = mkdtempSync(path.join(tmpdir(), "lifecycle-index-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));

    // Nothing listens on this port yet: the indexer's first connections are refused.
    const kafkaPort = await freePort();
    const httpPort = await freePort();
    const indexer = run("emb-indexer", {
      KAFKA_BOOTSTRAP_SERVERS: `127.0.0.1:${kafkaPort}`,
      EMBED_OUTPUT_TOPIC: topic,
      INDEXER_GROUP: unique("lifecycle-indexer"),
      INDEXER_PORT: String(httpPort),
      INDEX_DIR: dir,
      INFERMESH_URL: "http://127.0.0.1:9",
      EMBED_MODEL: "all-MiniLM-L6-v2",
      LOG_LEVEL: "warn",
    });
    await waitFor("the indexer to log a retried start", retried(indexer), 90_000);
    const starting = await fetch(`http://127.0.0.1:${httpPort}/health`);
    expect(starting.status).toBe(503);
    expect(((await starting.json()) as { status: string }).status).toBe("starting");

    await relayKafkaOn(kafkaPort, brokers[0]!);

    await waitFor("the indexer's /health to say ok", async () => {
      if (indexer.child.exitCode !== null) throw new Error(`indexer exited ${indexer.child.exitCode}:\n${indexer.output()}`);
      return (await fetch(`http://127.0.0.1:${httpPort}/health`)).status === 200;
    }, 120_000);
    indexer.child.kill("SIGTERM");
    expect(await indexer.exited).toBe(0);
  });

  it("starts the embed-worker while Kafka is unreachable: degraded on /health meanwhile, ok once Kafka is there", async () => {
    const brokers = inject("kafkaBrokers");
    const kafkaPort = await freePort();
    const httpPort = await freePort();
    const dir = mkdtempSync(path.join(tmpdir(), "lifecycle-parquet-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const worker = run("embed-worker", {
      KAFKA_BOOTSTRAP_SERVERS: `127.0.0.1:${kafkaPort}`,
      EMBED_INPUT_TOPIC: unique("lifecycle-input"),
      EMBED_OUTPUT_TOPIC: unique("lifecycle-output"),
      EMBED_DLQ_TOPIC: unique("lifecycle-dlq"),
      EMBED_GROUP: unique("lifecycle-embed"),
      EMBED_METRICS_PORT: String(httpPort),
      EMBED_PARQUET_DIR: dir,
      INFERMESH_URL: "http://127.0.0.1:9",
      LOG_LEVEL: "warn",
    });
    await waitFor("the embed-worker to log a retried start", retried(worker), 90_000);
    const health = async () => (await (await fetch(`http://127.0.0.1:${httpPort}/health`)).json()) as { status: string; reasons: { component: string; reason: string }[] };
    const waiting = await health();
    expect(waiting.status).toBe("degraded");
    expect(waiting.reasons.find((r) => r.component === "kafka")?.reason).toMatch(/^waiting for Kafka to start: /);

    await relayKafkaOn(kafkaPort, brokers[0]!);
    await waitFor("the embed-worker's /health to say ok", async () => {
      if (worker.child.exitCode !== null) throw new Error(`embed-worker exited ${worker.child.exitCode}:\n${worker.output()}`);
      return (await health()).status === "ok";
    }, 120_000);
    worker.child.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
  });
});
