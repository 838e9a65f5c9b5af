import "server-only";
import type { Logger } from "../log";
import { createKafka } from "./client";

export interface KafkaProbeOptions {
  brokers: string[];
  log: Logger;
  /** Aborts the probe: the admin client is disconnected and the call rejects with `signal.reason`. */
  signal: AbortSignal;
  /** TCP connect deadline; the caller's signal bounds the whole probe. */
  connectionTimeoutMs: number;
}

export interface KafkaClusterSummary {
  clusterId: string;
  brokers: number;
  controller: number | null;
}

/**
 * One-shot Kafka liveness check: a fresh admin client connects (retries 0),
 * runs `describeCluster` and always disconnects, so no connection outlives the
 * probe. A down broker fails at the first refused connection.
 */
export async function probeKafka({ brokers, log, signal, connectionTimeoutMs }: KafkaProbeOptions): Promise<KafkaClusterSummary> {
  signal.throwIfAborted();
  // KafkaJS logs every refused connection at ERROR; the probe's result already
  // carries that error, and the caller logs state changes, so keep it quiet.
  const quiet = log.child({ probe: "kafka" }, { level: "fatal" });
  const kafka = createKafka({ clientId: "embedline-console-health", brokers, log: quiet, connectionTimeoutMs, retries: 0 });
  const admin = kafka.admin({ retry: { retries: 0 } });

  const work = (async () => {
    await admin.connect();
    return admin.describeCluster();
  })();
  // If the deadline wins, `work` is cancelled by the disconnect below and its
  // late rejection must not surface as an unhandled rejection.
  work.catch(() => {});

  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => {});

  try {
    const cluster = await Promise.race([work, aborted]);
    return { clusterId: cluster.clusterId, brokers: cluster.brokers.length, controller: cluster.controller };
  } finally {
    if (onAbort) signal.removeEventListener("abort", onAbort);
    // Not awaited when aborted: KafkaJS drains in-flight requests before closing,
    // which a hung broker would stretch to its request timeout. The socket is
    // ended and unref'd either way, so it cannot keep the process alive.
    const closing = admin.disconnect().catch(() => {});
    if (!signal.aborted) await closing;
  }
}
