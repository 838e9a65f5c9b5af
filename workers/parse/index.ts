/**
 * The TypeScript parse worker, the embedded default of the parse stage:
 * agent.results → embedding_input (+ parse DLQ), exactly once.
 *
 *   node --conditions=react-server --enable-source-maps .build/workers/parse-worker.mjs   (built by `npm start`; scripts/build-workers.ts)
 */
import { parseParseWorkerConfig } from "../../lib/config/parse";
import { createKafka } from "../../lib/kafka/client";
import { ensureTopics } from "../../lib/kafka/topics";
import { beginProcess } from "../../lib/process/lifecycle";
import { createParseServer } from "./http";
import { ParseHealth } from "./health";
import { ParseMetrics } from "./metrics";
import { startParseLoop, type ParseLoop } from "./parse-loop";

const proc = beginProcess("parse-worker");
const cfg = proc.configure(parseParseWorkerConfig);
const log = proc.log;
const health = new ParseHealth();
const metrics = new ParseMetrics();
let loop: ParseLoop | undefined;

const firstLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split("\n")[0];

await proc.listen(createParseServer(health, metrics, { input: cfg.inputTopics, output: cfg.outputTopic, dlq: cfg.dlqTopic, group: cfg.groupId }, log), cfg.metricsPort, cfg.metricsHost);
proc.onStop("kafka", () => loop?.stop());
// Runs first at stop: /health says so while Kafka disconnects.
proc.onStop("health", () => {
  if (health.process !== "failed") health.process = "stopping";
});

function fail(err: Error): void {
  if (proc.stopping) return;
  health.process = "failed";
  health.detail = firstLine(err);
  // A supervisor restarts it; the transaction in flight was aborted, offsets never moved past it.
  proc.fail(err, "parse worker");
}

await proc.start(
  "parse worker",
  async () => {
    const kafka = createKafka({ clientId: "parse-worker", brokers: cfg.brokers, log });
    // The launcher creates the stack's topics; the DLQ is this worker's own.
    await ensureTopics(kafka, [...cfg.inputTopics, cfg.outputTopic, cfg.dlqTopic], cfg.partitions, cfg.replication);
    loop = await startParseLoop(kafka, cfg, metrics, health, log, {
      onJoined: () => {
        if (health.process === "starting") {
          health.process = "ok";
          health.detail = undefined;
        }
      },
      onFatal: fail,
    });
    log.info({ input: cfg.inputTopics, output: cfg.outputTopic, dlq: cfg.dlqTopic, group: cfg.groupId, maxTextBytes: cfg.maxTextBytes }, "parse worker started");
  },
  { onRetry: (err) => (health.detail = `waiting for Kafka: ${firstLine(err)}`) },
);
