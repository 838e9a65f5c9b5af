import { Kafka, logLevel as KafkaLogLevel, type LogEntry, type logCreator } from "kafkajs";
import type { Logger } from "../log";

/** Route KafkaJS's own log lines through our pino logger (one logger per process). */
function pinoLogCreator(log: Logger): logCreator {
  const child = log.child({ component: "kafkajs" });
  return () =>
    ({ level, log: entry }: LogEntry) => {
      const { message, ...rest } = entry;
      if (level === KafkaLogLevel.ERROR || level === KafkaLogLevel.NOTHING) child.error(rest, message);
      else if (level === KafkaLogLevel.WARN) child.warn(rest, message);
      else if (level === KafkaLogLevel.INFO) child.info(rest, message);
      else child.debug(rest, message);
    };
}

export interface KafkaClientOptions {
  clientId: string;
  brokers: string[];
  log: Logger;
  /** Connection timeout; short for probes, default for workers. */
  connectionTimeoutMs?: number;
  /** Retries of the client's own requests; 0 for a one-shot probe. */
  retries?: number;
}

export function createKafka({ clientId, brokers, log, connectionTimeoutMs = 3000, retries = 5 }: KafkaClientOptions): Kafka {
  return new Kafka({
    clientId,
    brokers,
    connectionTimeout: connectionTimeoutMs,
    logLevel: KafkaLogLevel.WARN,
    logCreator: pinoLogCreator(log),
    retry: { retries },
  });
}
