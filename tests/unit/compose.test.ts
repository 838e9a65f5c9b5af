import { describe, expect, it } from "vitest";
import { parseStackConfig } from "@/lib/config/stack";
import { variables } from "@/lib/config/variables";
import { stackProcesses } from "@/scripts/launcher/processes";
import { composeConfig, isLoopback, listeners, portMappings, type ComposeService } from "../harness/compose";

/**
 * Every address in a value a service is given: URLs (any scheme, so
 * INTERNAL://kafka:19092 and spark://spark-master:7077 too), comma lists of
 * them, bare host:port lists (KAFKA_BOOTSTRAP_SERVERS) and KRaft voters (1@kafka:9093).
 */
function addressesIn(value: string): { host: string; port: number }[] {
  return value.split(/[,\s]+/).flatMap((part) => {
    const url = part.match(/^([a-zA-Z][\w+.-]*):\/\/([^/:@]+)(?::(\d+))?/);
    if (url) return [{ host: url[2]!, port: Number(url[3] ?? (url[1] === "https" ? 443 : 80)) }];
    const hostPort = part.match(/^(?:\d+@)?([a-zA-Z][\w.-]*):(\d+)$/);
    return hostPort ? [{ host: hostPort[1]!, port: Number(hostPort[2]) }] : [];
  });
}

/**
 * Every address a service is given (environment values) that does not name a
 * compose service listening there beyond its container's loopback; and all the
 * addresses given, so a caller can see the scan read something.
 */
function unreachableAddresses(services: Record<string, ComposeService>): { given: string[]; problems: string[] } {
  const given: { from: string; host: string; port: number }[] = [];
  for (const [name, svc] of Object.entries(services)) {
    for (const [variable, value] of Object.entries(svc.environment ?? {})) {
      // The HOST listener is advertised to clients on the host machine: checked against the published ports elsewhere.
      const v = variable === "KAFKA_ADVERTISED_LISTENERS" ? String(value).split(",").filter((l) => !l.startsWith("HOST://")).join(",") : String(value ?? "");
      for (const a of addressesIn(v)) given.push({ from: `${name} ${variable}`, ...a });
    }
  }
  const problems = given.flatMap(({ from, host, port }) => {
    const target = services[host];
    if (!target) return [`${from} names ${host}:${port}, which is not a compose service`];
    const bound = listeners(host, target).filter((l) => l.port === port);
    if (bound.length === 0) return [`${from} names ${host}:${port}, but ${host} listens on ${listeners(host, target).map((l) => `${l.address}:${l.port}`).join(", ")}`];
    return bound.filter((l) => isLoopback(l.address)).map((l) => `${from} names ${host}:${port}, but ${host} binds ${l.address} there (${l.from}): unreachable from other containers`);
  });
  return { given: given.map((g) => `${g.from} → ${g.host}:${g.port}`), problems };
}

describe("docker-compose.yml", () => {
  const config = composeConfig();
  const services = config.services;

  it.each(stackProcesses.map((p) => [p.name, p.compose] as const))("has a service for the launcher's %s process (%s)", (_name, service) => {
    expect(Object.keys(services)).toContain(service);
    expect(services[service]?.healthcheck?.test?.length).toBeGreaterThan(0);
  });

  // docker's counterpart of npm start's supervision: a service that dies comes back.
  it.each(stackProcesses.map((p) => [p.name, p.compose] as const))("restarts the service of the launcher's %s process (%s) when it exits", (_name, service) => {
    expect(services[service]?.restart).toBe("unless-stopped");
  });

  // The scaled-out copies and the services npm start has no counterpart for (brokers 2 and 3, Spark's master and worker, Prometheus) too.
  it("gives every long-running service a healthcheck and restarts it when it exits", () => {
    const missing = Object.entries(services)
      .filter(([name]) => name !== "kafka-topics") // one-shot
      .flatMap(([name, svc]) => [
        ...(svc.restart === "unless-stopped" ? [] : [`${name}: restart ${svc.restart ?? "unset"}`]),
        ...((svc.healthcheck?.test?.length ?? 0) > 0 ? [] : [`${name}: no healthcheck`]),
      ]);
    expect(missing).toEqual([]);
    expect(services["kafka-topics"]?.restart).toBe("no");
  });

  it("creates every topic npm start creates, the parse stage's DLQ included", () => {
    const topics = services["kafka-topics"];
    const created = new Set(Object.values(topics?.environment ?? {}).flatMap((v) => String(v).split(",")));
    for (const topic of parseStackConfig({}).kafka.topics) expect(created).toContain(topic);
    const script = JSON.stringify((topics as { command?: unknown })?.command ?? "");
    for (const name of Object.keys(topics?.environment ?? {}).filter((n) => n !== "EMBED_TOPIC_PARTITIONS")) expect(script).toContain(name);
  });

  it("runs Kafka from the official image, KRaft, reachable from the host on 9092", () => {
    const kafka = services.kafka;
    expect(kafka?.image).toMatch(/^apache\/kafka:/);
    expect(kafka?.environment?.KAFKA_PROCESS_ROLES).toBe("broker,controller");
    expect(portMappings(kafka ?? {})).toContainEqual({ host: "127.0.0.1", published: 9092, target: 9092 });
    expect(kafka?.environment?.KAFKA_ADVERTISED_LISTENERS).toContain("localhost:9092");
  });

  it("builds the console from the Dockerfile, on the host's port 3000, once Kafka is healthy", () => {
    const consoleSvc = services.console;
    expect(consoleSvc?.build).toBeDefined();
    expect(portMappings(consoleSvc ?? {})).toContainEqual({ host: "127.0.0.1", published: 3000, target: 3000 });
    expect(consoleSvc?.depends_on?.kafka?.condition).toBe("service_healthy");
    expect(consoleSvc?.environment?.KAFKA_BOOTSTRAP_SERVERS).toBe("kafka:19092,kafka-2:19092,kafka-3:19092");
  });

  // With CONSOLE_TOKEN set every path but the liveness one needs credentials: a
  // healthcheck on /api/health would keep the container unhealthy (issue 13).
  it("checks the console's health on /api/live, which needs no credentials, and passes its access settings through", () => {
    const consoleSvc = services.console;
    const probe = consoleSvc?.healthcheck?.test?.join(" ") ?? "";
    expect(probe).toContain("http://127.0.0.1:3000/api/live");
    expect(probe).not.toContain("/api/health");
    for (const name of ["CONSOLE_TOKEN", "CONSOLE_ALLOWED_HOSTS", "CONSOLE_TRUST_PROXY", "CONSOLE_SESSION_TTL", "EMBED_CONTROL_TOKEN"]) {
      expect(Object.keys(consoleSvc?.environment ?? {})).toContain(name);
    }
  });

  it("keeps the console's session state (DATA_DIR/console) on a volume, so a logout outlives the container", () => {
    const mounts = ((services.console as { volumes?: (string | { source?: string; target?: string })[] }).volumes ?? []).map((v) =>
      typeof v === "string" ? v.split(":")[1] : v.target,
    );
    expect(mounts).toContain("/app/data/console");
  });

  // The console probes each worker from its own container: one listening on loopback alone shows as down.
  it.each([
    ["parse-worker", "PARSE_HOST"],
    ["embed-worker", "EMBED_WORKER_HOST"],
    ["embed-worker-2", "EMBED_WORKER_HOST"],
    ["emb-indexer", "INDEXER_HOST"],
    ["emb-indexer-2", "INDEXER_HOST"],
    ["infermesh", "INFERMESH_HOST"],
    ["infermesh-2", "INFERMESH_HOST"],
  ])("%s listens beyond its container's loopback (%s)", (service, variable) => {
    expect(services[service]?.environment?.[variable]).toBe("0.0.0.0");
  });

  // The defect this catches: the console was given http://parse-worker:9101 while
  // the parse worker bound 127.0.0.1 — reachable in its container only.
  it("gives every service only addresses of compose services that listen there beyond loopback", () => {
    const { given, problems } = unreachableAddresses(services);
    expect(problems).toEqual([]);
    // A sample of what must be among them, so an empty scan cannot pass.
    expect(given).toEqual(
      expect.arrayContaining(["console PARSE_METRICS_URL → parse-worker:9101", "console INDEXER_URL → emb-indexer:9102", "embed-worker INFERMESH_URL → infermesh-2:9000", "spark SPARK_MASTER → spark-master:7077", "kafka KAFKA_CONTROLLER_QUORUM_VOTERS → kafka-3:9093"]),
    );
  });

  // The same check on the file as it was: the parse worker left on its default bind address (PARSE_HOST 127.0.0.1).
  it.each([
    ["parse-worker", "PARSE_HOST", "console PARSE_METRICS_URL names parse-worker:9101, but parse-worker binds 127.0.0.1 there (PARSE_HOST/PARSE_METRICS_PORT)"],
    ["emb-indexer", "INDEXER_HOST", "console INDEXER_URL names emb-indexer:9102, but emb-indexer binds 127.0.0.1 there (INDEXER_HOST/INDEXER_PORT)"],
    ["embed-worker", "EMBED_WORKER_HOST", "console EMBED_WORKER_METRICS_URL names embed-worker:9100, but embed-worker binds 127.0.0.1 there (EMBED_WORKER_HOST/EMBED_METRICS_PORT)"],
  ])("finds the console unable to reach %s when it binds its default (%s unset)", (service, variable, problem) => {
    const environment = Object.fromEntries(Object.entries(services[service]!.environment ?? {}).filter(([name]) => name !== variable));
    const { problems } = unreachableAddresses({ ...services, [service]: { ...services[service], environment } });
    expect(problems).toContain(`${problem}: unreachable from other containers`);
  });

  it("knows where every service listens (so the check above covers each)", () => {
    for (const [name, svc] of Object.entries(services)) {
      if (name === "kafka-topics") continue; // a one-shot client, listens nowhere
      expect(listeners(name, svc).length, name).toBeGreaterThan(0);
    }
  });

  it.each(["kafka", "kafka-2", "kafka-3"])("%s advertises its host listener at the host port it publishes", (name) => {
    const svc = services[name]!;
    const host = (svc.environment?.KAFKA_ADVERTISED_LISTENERS ?? "").split(",").find((l) => l.startsWith("HOST://"));
    const port = Number(host?.match(/:(\d+)$/)?.[1]);
    const hostListener = listeners(name, svc).find((l) => l.from.includes("HOST://"));
    expect(portMappings(svc)).toContainEqual({ host: "127.0.0.1", published: port, target: hostListener?.port });
  });

  it("publishes no host port twice", () => {
    const published = Object.entries(services).flatMap(([name, svc]) => portMappings(svc).map((p) => `${p.host ?? "*"}:${p.published} (${name})`));
    const ports = published.map((p) => p.replace(/ \(.*$/, ""));
    expect(published.filter((_p, i) => ports.indexOf(ports[i]!) !== i)).toEqual([]);
    // reddb (profile) and the Spark master's UI both default to 8080 inside their containers.
    expect(ports).toContain("127.0.0.1:8080");
  });

  it("runs three KRaft nodes as one quorum, topics replicated 3 times with min.insync.replicas 2", () => {
    const nodes = ["kafka", "kafka-2", "kafka-3"].map((n) => services[n]?.environment ?? {});
    expect(nodes.map((e) => e.KAFKA_NODE_ID)).toEqual(["1", "2", "3"]);
    // One cluster id, in Kafka's form: a UUID as 22 characters of URL-safe base64.
    expect(new Set(nodes.map((e) => e.CLUSTER_ID)).size).toBe(1);
    expect(nodes[0]?.CLUSTER_ID).toMatch(/^[A-Za-z0-9_-]{22}$/);
    for (const e of nodes) {
      expect(e.KAFKA_PROCESS_ROLES).toBe("broker,controller");
      expect(e.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe("1@kafka:9093,2@kafka-2:9093,3@kafka-3:9093");
      expect(e).toMatchObject({ KAFKA_DEFAULT_REPLICATION_FACTOR: "3", KAFKA_MIN_INSYNC_REPLICAS: "2", KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: "3", KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: "3", KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: "2" });
    }
    const topics = services["kafka-topics"]!;
    expect(topics.environment).toMatchObject({ KAFKA_REPLICATION_FACTOR: "3", KAFKA_MIN_INSYNC_REPLICAS: "2" });
    const script = ([] as string[]).concat(topics.command ?? []).join("\n");
    expect(script).toContain('--replication-factor "$$KAFKA_REPLICATION_FACTOR"');
    expect(script).toContain('min.insync.replicas="$$KAFKA_MIN_INSYNC_REPLICAS"');
    // The index rebuilds a partition from the topic: the latest vector of every document must stay.
    expect(script).toMatch(/create "\$\$EMBED_OUTPUT_TOPIC" "--config cleanup.policy=compact"/);
    // Every process that may create a missing topic creates it the same way.
    for (const name of ["embed-worker", "embed-worker-2", "emb-indexer", "emb-indexer-2", "parse-worker"]) {
      expect(services[name]?.environment, name).toMatchObject({ KAFKA_REPLICATION_FACTOR: "3", KAFKA_MIN_INSYNC_REPLICAS: "2", KAFKA_BOOTSTRAP_SERVERS: "kafka:19092,kafka-2:19092,kafka-3:19092" });
    }
  });

  it("runs two embedding services, and both embed-workers and indexers use both", () => {
    for (const name of ["embed-worker", "embed-worker-2", "emb-indexer", "emb-indexer-2", "console"]) {
      expect(services[name]?.environment?.INFERMESH_URL, name).toBe("http://infermesh:9000,http://infermesh-2:9000");
    }
    expect(services.infermesh?.command).toEqual(services["infermesh-2"]?.command);
  });

  it("runs two embed-workers in one consumer group", () => {
    const [a, b] = [services["embed-worker"]!, services["embed-worker-2"]!];
    expect(a.command).toEqual(b.command);
    expect(a.environment?.EMBED_GROUP ?? null).toEqual(b.environment?.EMBED_GROUP ?? null);
  });

  it("runs two indexers, each with its own id, advertised URL naming itself, and index volume", () => {
    const ids = ["emb-indexer", "emb-indexer-2"].map((name) => {
      const svc = services[name]!;
      expect(svc.environment?.INDEXER_ADVERTISED_URL, name).toBe(`http://${name}:${svc.environment?.INDEXER_PORT}`);
      const index = (svc.volumes ?? []).map((v) => (typeof v === "string" ? v : `${v.source}:${v.target}`)).find((v) => v.split(":")[1] === svc.environment?.INDEX_DIR);
      return { id: svc.environment?.INDEXER_INSTANCE, volume: index?.split(":")[0] };
    });
    expect(new Set(ids.map((i) => i.id)).size).toBe(2);
    expect(ids.every((i) => i.volume !== undefined)).toBe(true);
    expect(new Set(ids.map((i) => i.volume)).size).toBe(2);
  });

  it("parses with Spark on a standalone master and worker by default; the parse worker is the opt-in alternative", () => {
    expect(services.spark?.profiles).toBeUndefined();
    expect(services.spark?.environment?.SPARK_MASTER).toBe("spark://spark-master:7077");
    expect(([] as string[]).concat(services["spark-worker"]?.command ?? []).join(" ")).toContain("spark://spark-master:7077");
    expect(services["spark-worker"]?.depends_on?.["spark-master"]?.condition).toBe("service_healthy");
    // Two parse stages would each parse every record into embedding_input.
    expect(services["parse-worker"]?.profiles).toEqual(["parse-worker"]);
    // The driver advertises a name the executors on spark-worker can reach.
    expect(services.spark?.environment?.SPARK_LOCAL_HOSTNAME).toBe("spark");
    expect(services.spark?.hostname).toBe("spark");
  });

  it("waits for all three brokers and the topics before starting a Kafka client", () => {
    for (const name of ["console", "embed-worker", "embed-worker-2", "emb-indexer", "emb-indexer-2", "spark", "parse-worker"]) {
      expect(services[name]?.depends_on, name).toMatchObject({
        kafka: { condition: "service_healthy" },
        "kafka-2": { condition: "service_healthy" },
        "kafka-3": { condition: "service_healthy" },
        "kafka-topics": { condition: "service_completed_successfully" },
      });
    }
  });

  // The embedding service runs offline with the model its image was built with.
  it("builds one image for every Embedline service, holding the model the embedding service loads", () => {
    const builds = Object.values(services)
      .filter((svc) => svc.image === "embedline:latest")
      .map((svc) => svc.build);
    expect(builds.length).toBeGreaterThan(1);
    for (const build of builds) expect(build).toEqual(builds[0]);
    expect(builds[0]).toMatchObject({ args: { INFERMESH_MODEL: variables.INFERMESH_MODEL.default } });
    expect(Object.keys(services.infermesh?.environment ?? {})).toEqual(expect.arrayContaining(["INFERMESH_MODEL", "INFERMESH_SESSIONS", "INFERMESH_INTRA_OP_THREADS"]));
  });

  it("gives Embedline's services only variables from lib/config/variables.ts", () => {
    const known = new Set(Object.keys(variables));
    // Spark's own: its daemons' JVM options, the driver's advertised name and
    // submit arguments, the executors' Python path.
    const spark = new Set(["SPARK_MASTER_OPTS", "SPARK_WORKER_OPTS", "SPARK_DAEMON_MEMORY", "SPARK_LOCAL_HOSTNAME", "PYSPARK_SUBMIT_ARGS", "PYTHONPATH"]);
    for (const [name, svc] of Object.entries(services)) {
      if (svc.image?.startsWith("apache/kafka")) continue; // the image's own KAFKA_* broker settings
      if (svc.image === "embedline-spark:latest") {
        expect(Object.keys(svc.environment ?? {}).filter((v) => !known.has(v) && !spark.has(v)), `service ${name}`).toEqual([]);
        continue;
      }
      const unknown = Object.keys(svc.environment ?? {}).filter((v) => !known.has(v));
      expect(unknown, `service ${name}`).toEqual([]);
    }
  });
});
