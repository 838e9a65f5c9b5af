import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseStackConfig } from "@/lib/config/stack";
import { variables } from "@/lib/config/variables";
import { stackProcesses } from "@/scripts/launcher/processes";

const root = path.resolve(__dirname, "../..");

interface Service {
  image?: string;
  build?: unknown;
  ports?: (string | { published?: string | number; target?: number })[];
  environment?: Record<string, string | null>;
  healthcheck?: { test?: string[] };
  restart?: string;
  depends_on?: Record<string, { condition?: string }>;
}

/**
 * `docker-compose config`: validates docker-compose.yml offline and prints it
 * normalized. The project's variables are cleared so the file's own defaults
 * are what gets checked.
 */
function composeConfig(): { services: Record<string, Service> } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(variables)) delete env[name];
  const r = spawnSync("docker-compose", ["-f", "docker-compose.yml", "config"], { cwd: root, env, encoding: "utf8", timeout: 60_000 });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") {
    throw new Error("docker-compose is not installed: install Debian's `docker-compose` package (apt-get install -y docker-compose); `npm test` does this for you");
  }
  if (r.status !== 0) throw new Error(`docker-compose config rejected docker-compose.yml:\n${r.stderr}`);
  return parse(r.stdout) as { services: Record<string, Service> };
}

/** "127.0.0.1:3000:3000/tcp" → { host: "127.0.0.1", published: 3000, target: 3000 } */
function portMappings(svc: Service) {
  return (svc.ports ?? []).map((p) => {
    if (typeof p !== "string") return { host: undefined, published: Number(p.published), target: Number(p.target) };
    const parts = p.replace(/\/\w+$/, "").split(":");
    const target = Number(parts.pop());
    const published = Number(parts.pop());
    return { host: parts.pop(), published, target };
  });
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
    expect(consoleSvc?.environment?.KAFKA_BOOTSTRAP_SERVERS).toBe("kafka:19092");
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
    ["emb-indexer", "INDEXER_HOST"],
    ["infermesh", "INFERMESH_HOST"],
  ])("%s listens beyond its container's loopback (%s)", (service, variable) => {
    expect(services[service]?.environment?.[variable]).toBe("0.0.0.0");
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
    for (const [name, svc] of Object.entries(services)) {
      if (svc.image?.startsWith("apache/kafka")) continue; // the image's own KAFKA_* broker settings
      const unknown = Object.keys(svc.environment ?? {}).filter((v) => !known.has(v));
      expect(unknown, `service ${name}`).toEqual([]);
    }
  });
});
