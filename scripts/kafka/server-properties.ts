import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * What a Kafka node (combined KRaft broker + controller, listening on 127.0.0.1
 * only) is started with: its server.properties and its JVM flags. One node for
 * `npm start` and the integration tests; three for the cluster test stage.
 */

// From the repository, two levels up from this module in scripts/kafka/ and in the
// built launcher (.build/launcher/), not beside the module: the bundle has no log4j2.xml.
export const log4jConfigPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..", "scripts", "kafka", "log4j2.xml");

export interface KafkaNodeSpec {
  nodeId: number;
  port: number;
  controllerPort: number;
  /** Every voter of the KRaft quorum (this node included): node id and controller port. */
  voters: { nodeId: number; controllerPort: number }[];
  logDir: string;
  /** Partitions of auto-created topics. */
  partitions: number;
}

/**
 * server.properties of one combined broker+controller. Rewritten at every start
 * so a changed port or partition count takes effect; the data under log.dirs is kept.
 * With one voter every replication factor and min ISR is 1; with three (the
 * cluster test stage) internal topics are replicated 3 times with min ISR 2, so
 * one node can die without losing a committed transaction or consumer offset.
 */
export function serverProperties(node: KafkaNodeSpec): string {
  const nodes = node.voters.length;
  const replicas = Math.min(nodes, 3);
  const minIsr = Math.min(replicas, 2);
  const lines = [
    "# Written by scripts/kafka at every start; edits here are overwritten.",
    "process.roles=broker,controller",
    `node.id=${node.nodeId}`,
    // Static voters (not controller.quorum.bootstrap.servers + --standalone): the
    // voters' addresses are then read from this file, not from the metadata log, so
    // KAFKA_CONTROLLER_PORT can change between starts on the same data.
    `controller.quorum.voters=${node.voters.map((v) => `${v.nodeId}@127.0.0.1:${v.controllerPort}`).join(",")}`,
    `listeners=PLAINTEXT://127.0.0.1:${node.port},CONTROLLER://127.0.0.1:${node.controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${node.port}`,
    "controller.listener.names=CONTROLLER",
    "inter.broker.listener.name=PLAINTEXT",
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    `log.dirs=${node.logDir}`,
    "",
    nodes === 1
      ? "# One node: every replication factor and min ISR is 1, or internal topics\n# (consumer offsets, transaction state) could never be created."
      : `# ${nodes} nodes: internal topics on ${replicas} replicas, of which ${minIsr} must have a write\n# (acks=all), so one node can die without losing a committed transaction or offset.`,
    `num.partitions=${node.partitions}`,
    `default.replication.factor=${replicas}`,
    `min.insync.replicas=${minIsr}`,
    `offsets.topic.replication.factor=${replicas}`,
    `transaction.state.log.replication.factor=${replicas}`,
    `transaction.state.log.min.isr=${minIsr}`,
    `share.coordinator.state.topic.replication.factor=${replicas}`,
    `share.coordinator.state.topic.min.isr=${minIsr}`,
    "",
    "# Sized for a 2-core machine that also runs Spark, the model and the console.",
    "# Network threads: one per core is plenty for a handful of local clients (default 3).",
    "num.network.threads=2",
    "# Request handler threads: more than the cores only adds context switches (default 8).",
    "num.io.threads=2",
    "# Background tasks (log cleanup, deletion) are rare on a dev broker (default 10).",
    "background.threads=2",
    "# One data disk: parallel log recovery after a crash buys nothing (default 2).",
    "num.recovery.threads.per.data.dir=1",
    "# 50 partitions each (the default) means 100 logs and coordinator shards to load",
    "# at every start; 3 is enough for the few groups and transactional ids of one stack.",
    "offsets.topic.num.partitions=3",
    "transaction.state.log.num.partitions=3",
    "# Consumers join at once instead of after 3 s (default): one machine starts",
    "# workers one by one anyway, and tests do not wait on every group join.",
    "group.initial.rebalance.delay.ms=0",
    "# Retention deletes whole segments; 128 MiB segments (default 1 GiB) let a small",
    "# dev disk get space back long before each partition holds a gigabyte.",
    "log.segment.bytes=134217728",
  ];
  if (nodes > 1) {
    lines.push(
      "",
      "# Several nodes on one machine: one fetcher per source broker is enough (default 1).",
      "num.replica.fetchers=1",
      "# A node that stops heartbeating is fenced after this long, and only then do its",
      "# partitions get new leaders and leave every ISR: it is the stall a kill -9 costs",
      "# writers. 6 s (default 9 s) with a heartbeat every second (default 2 s) still rides",
      "# out a GC pause or a busy second on two loaded cores without fencing a live node.",
      "broker.session.timeout.ms=6000",
      "broker.heartbeat.interval.ms=1000",
    );
  }
  return `${lines.join("\n")}\n`;
}

/**
 * `lean`: for the nodes of the cluster test stage, three JVMs beside the whole
 * pipeline on two cores. C1 only (no C2 compiler threads: a node reaches its peak
 * much sooner and starts with far less CPU) and the serial collector (no parallel
 * GC threads; pauses on a 256 MB heap stay in the tens of milliseconds). Their
 * throughput is not what that stage measures; fail-over is.
 */
export function jvmArgs(heap: string, { lean = false }: { lean?: boolean } = {}): string[] {
  const gc = lean
    ? ["-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"]
    : // Kafka's own defaults (kafka-run-class.sh): G1 with short pauses.
      ["-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:InitiatingHeapOccupancyPercent=35", "-XX:+ExplicitGCInvokesConcurrent"];
  return [
    `-Xmx${heap}`,
    `-Xms${heap}`,
    "-server",
    ...gc,
    "-XX:MaxInlineLevel=15",
    // An out-of-memory broker should die (the launcher sees it) rather than limp on.
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
    `-Dlog4j2.configurationFile=${log4jConfigPath}`,
  ];
}
