import { fileURLToPath } from "node:url";
import path from "node:path";
import { freePort } from "../../scripts/launcher/ports";
import { startCommand, type RunningCommand } from "./processes";
import { waitFor } from "./wait-for";

const here = path.dirname(fileURLToPath(import.meta.url));

const repoRoot = path.resolve(here, "../..");

export interface ParseWorkerSetup {
  brokers: string[];
  input: string;
  output: string;
  dlq: string;
  group: string;
  transactionalId: string;
}

export interface ParseWorkerProcess extends RunningCommand {
  metricsUrl: string;
}

/** The worker as the launcher runs it, on a port and topics of its own; resolves once /health says ok. */
export async function startParseWorker(s: ParseWorkerSetup, port?: number): Promise<ParseWorkerProcess> {
  const metricsPort = port ?? (await freePort());
  const proc = startCommand(process.execPath, ["--conditions=react-server", "--import", "tsx", path.join(repoRoot, "workers/parse/index.ts")], {
    cwd: repoRoot,
    env: {
      ...process.env,
      KAFKA_BOOTSTRAP_SERVERS: s.brokers.join(","),
      SPARK_KAFKA_TOPICS: s.input,
      SINK_INPUT_TOPIC: s.output,
      PARSE_DLQ_TOPIC: s.dlq,
      PARSE_GROUP: s.group,
      PARSE_TRANSACTIONAL_ID: s.transactionalId,
      PARSE_METRICS_PORT: String(metricsPort),
      LOG_LEVEL: "warn",
    },
  });
  const metricsUrl = `http://127.0.0.1:${metricsPort}`;
  await waitFor(
    "the parse worker's /health to answer ok",
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`parse worker exited (${proc.child.exitCode}):\n${proc.output()}`);
      const res = await fetch(`${metricsUrl}/health`);
      return res.status === 200;
    },
    60_000,
  );
  return { ...proc, metricsUrl };
}

export async function workerMetrics(w: ParseWorkerProcess): Promise<Record<string, unknown>> {
  return (await (await fetch(`${w.metricsUrl}/metrics`)).json()) as Record<string, unknown>;
}
