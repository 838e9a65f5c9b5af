/**
 * docker-compose.yml as `docker-compose config` normalizes it, and where each of
 * its services listens, for tests/unit/compose.test.ts and prometheus-config.test.ts.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { variables } from "@/lib/config/variables";
import { stackProcesses, WORKERS_OUT_DIR } from "@/scripts/launcher/processes";

export const repoRoot = path.resolve(__dirname, "../..");

export interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  hostname?: string;
  profiles?: string[];
  ports?: (string | { published?: string | number; target?: number; host_ip?: string })[];
  environment?: Record<string, string | null>;
  healthcheck?: { test?: string[] };
  restart?: string;
  depends_on?: Record<string, { condition?: string }>;
  volumes?: (string | { source?: string; target?: string })[];
}

/**
 * `docker-compose config`: validates docker-compose.yml offline and prints it
 * normalized. The project's variables are cleared so the file's own defaults
 * are what gets checked.
 */
export function composeConfig(): { services: Record<string, ComposeService> } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(variables)) delete env[name];
  const r = spawnSync("docker-compose", ["-f", "docker-compose.yml", "config"], { cwd: repoRoot, env, encoding: "utf8", timeout: 60_000 });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") {
    throw new Error("docker-compose is not installed: install Debian's `docker-compose` package (apt-get install -y docker-compose); `npm test` does this for you");
  }
  if (r.status !== 0) throw new Error(`docker-compose config rejected docker-compose.yml:\n${r.stderr}`);
  return parse(r.stdout) as { services: Record<string, ComposeService> };
}

/** "127.0.0.1:3000:3000/tcp" → { host: "127.0.0.1", published: 3000, target: 3000 } */
export function portMappings(svc: ComposeService) {
  return (svc.ports ?? []).map((p) => {
    if (typeof p !== "string") return { host: p.host_ip, published: Number(p.published), target: Number(p.target) };
    const parts = p.replace(/\/\w+$/, "").split(":");
    const target = Number(parts.pop());
    const published = Number(parts.pop());
    return { host: parts.pop(), published, target };
  });
}

export interface Listener {
  /** The address bound: "0.0.0.0" (every interface), a host name, or a loopback address. */
  address: string;
  port: number;
  /** How it was worked out, for failure messages. */
  from: string;
}

/** Embedline's workers by entry point: the variables of their listening address and port. */
const WORKER_LISTEN: Record<string, [hostVar: keyof typeof variables, portVar: keyof typeof variables]> = {
  "workers/infermesh/index.ts": ["INFERMESH_HOST", "INFERMESH_PORT"],
  "workers/indexer/index.ts": ["INDEXER_HOST", "INDEXER_PORT"],
  "workers/parse/index.ts": ["PARSE_HOST", "PARSE_METRICS_PORT"],
  "workers/embed/index.ts": ["EMBED_WORKER_HOST", "EMBED_METRICS_PORT"],
  "workers/reddb/index.ts": ["REDDB_HOST", "REDDB_PORT"],
};

/**
 * The TypeScript entry of the worker a command runs: the built bundle
 * (`.build/workers/<process name>.mjs`, as the launcher runs it) or the entry itself.
 */
export function workerEntry(cmd: string): string | undefined {
  for (const p of stackProcesses) {
    if (p.launch.kind !== "worker") continue;
    if (cmd.includes(path.posix.join(WORKERS_OUT_DIR, `${p.name}.mjs`)) || cmd.includes(p.launch.entry)) return p.launch.entry;
  }
  return Object.keys(WORKER_LISTEN).find((entry) => cmd.includes(entry));
}

const commandOf = (svc: ComposeService) => (Array.isArray(svc.command) ? svc.command.join(" ") : (svc.command ?? ""));
const flag = (cmd: string, name: string) => cmd.match(new RegExp(`${name}\\s+(\\S+)`))?.[1];

/** The image's CMD from a Dockerfile, as an argument list (exec form only). */
function dockerfileCmd(file: string): string[] {
  const cmd = readFileSync(path.join(repoRoot, file), "utf8").split("\n").filter((l) => l.startsWith("CMD ")).pop();
  if (!cmd) throw new Error(`${file} has no CMD`);
  return JSON.parse(cmd.slice(4)) as string[];
}

/**
 * Where a service listens, worked out from what the container is given (its
 * environment with the variables' defaults, its command, its image's CMD) —
 * not from what its comments say. Throws for a service it does not know, so a
 * new kind of service gets a rule here rather than passing unchecked.
 */
export function listeners(name: string, svc: ComposeService): Listener[] {
  const env = svc.environment ?? {};
  const valueOf = (v: keyof typeof variables) => env[v] ?? (variables[v] as { default?: string }).default ?? "";
  const cmd = commandOf(svc);
  if (svc.image?.startsWith("apache/kafka")) {
    // KAFKA_LISTENERS: NAME://host:port, an empty host meaning every interface.
    return (env.KAFKA_LISTENERS ?? "").split(",").map((l) => {
      const m = l.match(/^(\w+):\/\/([^:]*):(\d+)$/);
      if (!m) throw new Error(`${name}: cannot read listener ${l}`);
      return { address: m[2] === "" ? "0.0.0.0" : m[2]!, port: Number(m[3]), from: `KAFKA_LISTENERS ${l}` };
    });
  }
  if (svc.image?.startsWith("prom/prometheus")) {
    const listen = flag(cmd, "--web.listen-address=?") ?? "0.0.0.0:9090";
    const [address, port] = listen.split(":");
    return [{ address: address || "0.0.0.0", port: Number(port), from: "prometheus --web.listen-address (default 0.0.0.0:9090)" }];
  }
  const worker = workerEntry(cmd);
  if (worker) {
    const [hostVar, portVar] = WORKER_LISTEN[worker]!;
    return [{ address: valueOf(hostVar), port: Number(valueOf(portVar)), from: `${hostVar}/${portVar}` }];
  }
  if (cmd.includes("org.apache.spark.deploy.master.Master")) {
    return [
      { address: flag(cmd, "--host") ?? "", port: Number(flag(cmd, "--port") ?? 7077), from: "Master --host/--port" },
      // Spark's web UIs bind SPARK_LOCAL_IP, else every interface.
      { address: env.SPARK_LOCAL_IP ?? "0.0.0.0", port: Number(flag(cmd, "--webui-port") ?? 8080), from: "Master --webui-port" },
    ];
  }
  if (cmd.includes("org.apache.spark.deploy.worker.Worker")) {
    return [{ address: env.SPARK_LOCAL_IP ?? "0.0.0.0", port: Number(flag(cmd, "--webui-port") ?? 8081), from: "Worker --webui-port" }];
  }
  const build = svc.build as { dockerfile?: string } | undefined;
  if (build?.dockerfile?.endsWith("spark/Dockerfile") && cmd === "") {
    // spark/job.py: the driver's UI on SPARK_UI_PORT, bound to SPARK_LOCAL_IP.
    return [{ address: valueOf("SPARK_LOCAL_IP"), port: Number(valueOf("SPARK_UI_PORT")), from: "SPARK_LOCAL_IP/SPARK_UI_PORT" }];
  }
  if (svc.image === "embedline:latest" && cmd === "") {
    // The console: the image's CMD, `next start -p … -H …`.
    const args = dockerfileCmd("Dockerfile").join(" ");
    return [{ address: flag(args, "-H") ?? "localhost", port: Number(flag(args, "-p") ?? 3000), from: "Dockerfile CMD next start -H/-p" }];
  }
  throw new Error(`tests/harness/compose.ts does not know where service ${name} listens: add a rule to listeners()`);
}

export const isLoopback = (address: string) => address === "localhost" || address.startsWith("127.") || address === "::1" || address === "";
