/**
 * The TypeScript parse worker, the embedded default of the parse stage:
 * agent.results → embedding_input (+ parse DLQ), exactly once.
 *
 *   node --conditions=react-server --import tsx workers/parse/index.ts
 */
import { loadOrExit } from "../../lib/config/load";
import { parseParseWorkerConfig } from "../../lib/config/parse";
import { createKafka } from "../../lib/kafka/client";
import { ensureTopics } from "../../lib/kafka/topics";
import { createLogger } from "../../lib/log";
import { createParseServer } from "./http";
import { ParseHealth } from "./health";
import { ParseMetrics } from "./metrics";
import { startParseLoop, type ParseLoop } from "./parse-loop";

const cfg = loadOrExit(parseParseWorkerConfig);
const log = createLogger("parse-worker", cfg.logLevel);
const health = new ParseHealth();
const metrics = new ParseMetrics();
let loop: ParseLoop | undefined;

const server = createParseServer(health, metrics, { input: cfg.inputTopics, output: cfg.outputTopic, dlq: cfg.dlqTopic, group: cfg.groupId });
server.on("error", (err) => {
  log.fatal({ err: { message: err.message }, port: cfg.metricsPort }, "metrics server error; stopping");
  process.exit(1);
});
server.listen(cfg.metricsPort, "127.0.0.1", () => log.info({ port: cfg.metricsPort }, "parse worker /health and /metrics listening"));

function fail(err: Error): void {
  if (health.process === "stopping" || health.process === "failed") return;
  health.process = "failed";
  health.detail = err.message.split("\n")[0];
  log.fatal({ err: { message: err.message } }, "parse worker cannot go on; stopping");
  // A supervisor restarts it; the transaction in flight was aborted, offsets never moved past it.
  void shutdown("failure", 1);
}

async function start(): Promise<void> {
  const kafka = createKafka({ clientId: "parse-worker", brokers: cfg.brokers, log });
  // The launcher creates the stack's topics; the DLQ is this worker's own.
  await ensureTopics(kafka, [...cfg.inputTopics, cfg.outputTopic, cfg.dlqTopic], cfg.partitions);
  loop = await startParseLoop(kafka, cfg, metrics, health, log, {
    onJoined: () => {
      if (health.process === "starting") health.process = "ok";
    },
    onFatal: fail,
  });
  log.info({ input: cfg.inputTopics, output: cfg.outputTopic, dlq: cfg.dlqTopic, group: cfg.groupId, maxTextBytes: cfg.maxTextBytes }, "parse worker started");
}

async function shutdown(signal: string, code = 0): Promise<void> {
  if (health.process === "stopping") return;
  if (health.process !== "failed") health.process = "stopping";
  log.info({ signal }, "stopping");
  const deadline = setTimeout(() => {
    log.error({ timeoutMs: cfg.shutdownTimeoutMs }, "shutdown timed out; exiting");
    process.exit(1);
  }, cfg.shutdownTimeoutMs);
  deadline.unref();
  try {
    await loop?.stop();
  } catch (err) {
    log.warn({ err: { message: (err as Error).message } }, "kafka disconnect failed");
  }
  await new Promise<void>((resolve) => server.close(() => resolve()));
  log.info("stopped");
  process.exit(code);
}

process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));

start().catch((err: Error) => fail(err));
