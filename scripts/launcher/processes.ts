import path from "node:path";
import type { StackConfig } from "../../lib/config/stack";

export interface LaunchContext {
  cfg: StackConfig;
  root: string;
}

/** A Node process of the stack: what to run and where it answers once ready. */
interface NodeLaunch {
  kind: "node";
  args: (ctx: LaunchContext) => string[];
  /** A 2xx answer here means the process is ready for the ones started after it. */
  readyUrl: (ctx: LaunchContext) => string;
}

/**
 * One of the stack's own programs: its TypeScript entry is bundled into
 * `WORKERS_OUT_DIR/<name>.mjs` (scripts/launcher/worker-build.ts) and that
 * plain JavaScript runs with node (workerNodeArgs).
 */
interface WorkerLaunch {
  kind: "worker";
  /** The TypeScript entry, relative to the repository. */
  entry: string;
  readyUrl: (ctx: LaunchContext) => string;
}

/**
 * The processes of the stack, declared once. The launcher starts them in this
 * order and stops them in reverse; the compose file must have a service for
 * each (tests/unit/compose.test.ts).
 */
export interface StackProcess {
  name: string;
  /** Service name in docker-compose.yml. */
  compose: string;
  port: (cfg: StackConfig) => number;
  /** The variable an operator sets to move it to another port. */
  portVariable: string;
  /** Started only when this launcher flag is given (e.g. --reddb); always when absent. */
  flag?: string;
  /** Not started when this flag is given: the process it names takes this one's place. */
  unlessFlag?: string;
  /** How long it may take to become ready; default 60 s. */
  readyTimeoutMs?: number;
  /** True when the operator points the stack at an existing service of this kind instead. */
  external?: (cfg: StackConfig) => boolean;
  /** Variables every later process needs to reach this one. */
  provides?: (cfg: StackConfig) => Record<string, string>;
  /** Started `cfg.scale[count]` times (`--embedders N`, `--indexers N`): instance i ≥ 1 is `<name>-<i>` on port + i (scripts/launcher/instances.ts). */
  scale?: {
    count: keyof StackConfig["scale"];
    /** The configuration instance i sees: its own port, so `port`, `launch.args` and `launch.readyUrl` name it. */
    at: (cfg: StackConfig, i: number) => StackConfig;
    /** What instance i's environment adds (it inherits the rest). */
    env: (cfg: StackConfig, i: number) => Record<string, string>;
  };
  launch: { kind: "kafka" } | NodeLaunch | WorkerLaunch;
}

/**
 * Where the workers are built, relative to the repository (git-ignored). Two
 * levels down, like the sources' lib/<x>/ and scripts/install/: a module that
 * finds the repository as "../.." from import.meta.url finds it from here too.
 */
export const WORKERS_OUT_DIR = path.join(".build", "workers");

/**
 * node's arguments for the built worker `name` (a process of the table below):
 * the launcher, the tests' and benches' worker processes and docker-compose all
 * run exactly this. --conditions=react-server: modules shared with the console
 * start with `import "server-only"`, which resolves to an empty module under
 * that condition. --enable-source-maps: stack traces name the TypeScript lines.
 */
export const workerNodeArgs = (root: string, name: string): string[] => ["--conditions=react-server", "--enable-source-maps", path.join(root, WORKERS_OUT_DIR, `${name}.mjs`)];

/** node's arguments for a process of the table: the built worker, or the process's own. */
export function launchArgs(p: StackProcess, ctx: LaunchContext): string[] {
  if (p.launch.kind === "worker") return workerNodeArgs(ctx.root, p.name);
  if (p.launch.kind === "node") return p.launch.args(ctx);
  throw new Error(`${p.name} is not a node process`);
}

export const stackProcesses: StackProcess[] = [
  {
    name: "kafka",
    compose: "kafka",
    port: (cfg) => cfg.kafka.port,
    portVariable: "KAFKA_PORT",
    external: (cfg) => cfg.kafka.external,
    provides: (cfg) => ({ KAFKA_BOOTSTRAP_SERVERS: cfg.kafka.brokers.join(",") }),
    launch: { kind: "kafka" },
  },
  {
    name: "infermesh",
    compose: "infermesh",
    port: (cfg) => cfg.infermesh.port,
    portVariable: "INFERMESH_PORT",
    external: (cfg) => cfg.infermesh.external,
    provides: (cfg) => ({ INFERMESH_URL: cfg.infermesh.urls.join(",") }),
    scale: {
      count: "embedders",
      at: (cfg, i) => ({ ...cfg, infermesh: { ...cfg.infermesh, port: cfg.infermesh.port + i } }),
      env: (cfg, i) => ({ INFERMESH_PORT: String(cfg.infermesh.port + i) }),
    },
    launch: {
      kind: "worker",
      entry: "workers/infermesh/index.ts",
      readyUrl: ({ cfg }) => `http://127.0.0.1:${cfg.infermesh.port}/health`,
    },
  },
  {
    name: "reddb",
    compose: "reddb",
    flag: "--reddb",
    port: (cfg) => cfg.reddb.port,
    portVariable: "REDDB_PORT",
    external: (cfg) => cfg.reddb.external,
    provides: (cfg) => ({ REDDB_URL: cfg.reddb.url }),
    launch: {
      kind: "worker",
      entry: "workers/reddb/index.ts",
      readyUrl: ({ cfg }) => `http://127.0.0.1:${cfg.reddb.port}/health`,
    },
  },
  {
    name: "parse-worker",
    compose: "parse-worker",
    unlessFlag: "--spark",
    port: (cfg) => cfg.parse.port,
    portVariable: "PARSE_METRICS_PORT",
    provides: (cfg) => ({ PARSE_METRICS_URL: `http://127.0.0.1:${cfg.parse.port}` }),
    launch: {
      kind: "worker",
      entry: "workers/parse/index.ts",
      readyUrl: ({ cfg }) => `http://127.0.0.1:${cfg.parse.port}/health`,
    },
  },
  {
    name: "spark",
    compose: "spark",
    flag: "--spark",
    port: (cfg) => cfg.spark.uiPort,
    portVariable: "SPARK_UI_PORT",
    provides: (cfg) => ({ SPARK_VECTOR_UI_URL: `http://127.0.0.1:${cfg.spark.uiPort}/api/v1` }),
    // The JVM, then the query: about 20 s on 2 cores, more on a first start.
    readyTimeoutMs: 180_000,
    launch: {
      kind: "worker",
      entry: "spark/run.ts",
      readyUrl: ({ cfg }) => `http://127.0.0.1:${cfg.spark.uiPort}/api/v1/applications`,
    },
  },
  {
    name: "embed-worker",
    compose: "embed-worker",
    port: (cfg) => cfg.embedWorker.port,
    portVariable: "EMBED_METRICS_PORT",
    provides: (cfg) => ({ EMBED_WORKER_METRICS_URL: `http://127.0.0.1:${cfg.embedWorker.port}` }),
    launch: {
      kind: "worker",
      entry: "workers/embed/index.ts",
      readyUrl: ({ cfg }) => `http://127.0.0.1:${cfg.embedWorker.port}/health`,
    },
  },
  {
    name: "emb-indexer",
    compose: "emb-indexer",
    port: (cfg) => cfg.indexer.port,
    portVariable: "INDEXER_PORT",
    // The console finds every indexer in INDEXER_GROUP; INDEXER_URL (the first) is its fallback.
    provides: (cfg) => ({ INDEXER_URL: `http://127.0.0.1:${cfg.indexer.port}` }),
    scale: {
      count: "indexers",
      at: (cfg, i) => ({ ...cfg, indexer: { ...cfg.indexer, port: cfg.indexer.port + i } }),
      // Instance i ≥ 1: its own index and a stable id, so a restart gets the same partitions back.
      env: (cfg, i): Record<string, string> =>
        i === 0
          ? {}
          : {
              INDEXER_PORT: String(cfg.indexer.port + i),
              INDEX_DIR: `${cfg.indexer.dir}-${i}`,
              INDEXER_ADVERTISED_URL: `http://127.0.0.1:${cfg.indexer.port + i}`,
              INDEXER_INSTANCE: `emb-indexer-${i}`,
            },
    },
    launch: {
      kind: "worker",
      entry: "workers/indexer/index.ts",
      readyUrl: ({ cfg }) => `http://127.0.0.1:${cfg.indexer.port}/health`,
    },
  },
  {
    name: "console",
    compose: "console",
    port: (cfg) => cfg.console.port,
    portVariable: "CONSOLE_PORT",
    launch: {
      kind: "node",
      args: ({ cfg, root }) => [path.join(root, "node_modules", "next", "dist", "bin", "next"), "start", "-p", String(cfg.console.port), "-H", "127.0.0.1"],
      // Ready when it answers, whatever the health of the rest: /api/live needs no
      // credentials (with CONSOLE_TOKEN set /api/health answers 401) and says only "ok".
      readyUrl: ({ cfg }) => `http://127.0.0.1:${cfg.console.port}/api/live`,
    },
  },
];
