import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { UpstreamSnapshot } from "@/lib/embedding";
import { indexerPrometheus } from "@/lib/metrics/prometheus-indexer";
import { IndexerMetrics } from "@/workers/indexer/metrics";
import { WorkerStats } from "@/workers/embed/stats";
import { composeConfig, isLoopback, listeners, repoRoot, workerEntry } from "../harness/compose";
import { promtoolCheckConfig as check, promtoolTestRules } from "../harness/promtool";

const promtoolCheckConfig = (file: string) => check(file, repoRoot);

const CONFIG = "deploy/prometheus.yml";

interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  static_configs?: { targets: string[] }[];
}

const prometheusYml = parse(readFileSync(path.join(repoRoot, CONFIG), "utf8")) as { scrape_configs: ScrapeConfig[] };
/** Every target with the path scraped on it: "embed-worker:9100" → /metrics/prometheus. */
const targets = prometheusYml.scrape_configs.flatMap((job) =>
  (job.static_configs ?? []).flatMap((c) => c.targets.map((t) => ({ job: job.job_name, target: t, path: job.metrics_path ?? "/metrics" }))),
);

describe(`${CONFIG}`, () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), "prometheus-config-"));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("passes promtool check config", () => {
    const { status, output } = promtoolCheckConfig(CONFIG);
    expect(output).toContain("SUCCESS");
    expect(status).toBe(0);
  });

  it("loads deploy/alerts.yml, whose alerts fire on the series they should and not on others (promtool test rules)", () => {
    expect((parse(readFileSync(path.join(repoRoot, CONFIG), "utf8")) as { rule_files?: string[] }).rule_files).toEqual(["alerts.yml"]);
    const { status, output } = promtoolTestRules("deploy/alerts.test.yml", repoRoot);
    expect(output).toContain("SUCCESS");
    expect(status).toBe(0);
  });

  // A renamed metric would leave its alert silent forever: every name an alert reads must be one a worker writes.
  it("alerts only on metrics the workers expose", () => {
    const exprs = readFileSync(path.join(repoRoot, "deploy/alerts.yml"), "utf8").split("\n").filter((l) => l.trim().startsWith("expr:")).join("\n");
    const read = new Set(exprs.match(/embedline_\w+/g));
    expect(read.size).toBeGreaterThan(3);
    const upstream: UpstreamSnapshot = { url: "http://infermesh:9000", state: "up", outstanding: 0, requests: 1, failures: 0, ejections: 0, p50_ms: 1, p99_ms: 2 } as UpstreamSnapshot;
    const indexerJson = { ...new IndexerMetrics().toJSON({ total_ids: 0, dim: null, model: null, recall: { recall_at_10: null } as never }), lag: { total: 1, partitions: { "0": 1 } }, instance: "a", partitions: [{ partition: 0, state: "live" as const, applied: 1, end: 1 }] };
    const stats = new WorkerStats();
    stats.lagByPartition.set(0, 1);
    const written = new Set(
      [stats.prometheus({ paused: false, degraded: false, upstreams: [upstream] }), indexerPrometheus(indexerJson)].flatMap((text) => [...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]!)),
    );
    expect([...read].filter((name) => !written.has(name))).toEqual([]);
  });

  it("promtool test rules fails when an alert does not fire as expected (so the test above can fail)", () => {
    const rules = readFileSync(path.join(repoRoot, "deploy/alerts.yml"), "utf8").replace("embedline_embed_worker_upstream_up == 0", "embedline_embed_worker_upstream_up == 1");
    writeFileSync(path.join(tmp, "alerts.yml"), rules);
    writeFileSync(path.join(tmp, "alerts.test.yml"), readFileSync(path.join(repoRoot, "deploy/alerts.test.yml")));
    expect(promtoolTestRules("alerts.test.yml", tmp).status).not.toBe(0);
  });

  it("promtool fails a broken configuration (so the check above can fail)", () => {
    const broken = path.join(tmp, "broken.yml");
    writeFileSync(broken, "scrape_configs:\n  - job_name: x\n    scrape_interval: soon\n    static_configs:\n      - targets: ['a:1']\n");
    expect(promtoolCheckConfig(broken).status).not.toBe(0);
  });

  const { services } = composeConfig();

  it("is the configuration docker-compose's Prometheus runs with", () => {
    const prom = services.prometheus;
    const mounts = (prom?.volumes ?? []).map((v) => (typeof v === "string" ? v : `${v.source}:${v.target}`));
    expect(mounts).toContainEqual(expect.stringMatching(new RegExp(`${CONFIG.replace(".", "\\.")}:/etc/prometheus/prometheus\\.yml(:ro)?$`)));
    // rule_files resolve beside the configuration file.
    expect(mounts).toContainEqual(expect.stringMatching(/deploy\/alerts\.yml:\/etc\/prometheus\/alerts\.yml(:ro)?$/));
    expect(([] as string[]).concat(prom?.command ?? []).join(" ")).toContain("--config.file=/etc/prometheus/prometheus.yml");
  });

  it("scrapes only compose services, on ports where they listen beyond loopback", () => {
    const problems = targets.flatMap(({ job, target }) => {
      const [host, port] = target.split(":");
      if (host === "localhost" && job === "prometheus") return []; // Prometheus itself
      const svc = services[host!];
      if (!svc) return [`${job}: ${target} is not a compose service`];
      const bound = listeners(host!, svc).filter((l) => l.port === Number(port));
      if (bound.length === 0) return [`${job}: ${host} does not listen on ${port}`];
      return bound.filter((l) => isLoopback(l.address)).map((l) => `${job}: ${host} binds ${l.address}:${port}, unreachable from Prometheus' container`);
    });
    expect(problems).toEqual([]);
  });

  // Every process of ours serves /metrics/prometheus (lib/metrics/prometheus.ts); a scaled-out copy must be added here too.
  it("scrapes /metrics/prometheus of every Embedline worker service in the compose file", () => {
    const workers = Object.entries(services).filter(([, svc]) => /workers\/(embed|indexer|infermesh|parse)\/index\.ts/.test(workerEntry(([] as string[]).concat(svc.command ?? []).join(" ")) ?? ""));
    expect(workers.map(([name]) => name)).toEqual(expect.arrayContaining(["embed-worker", "embed-worker-2", "emb-indexer", "emb-indexer-2", "infermesh", "infermesh-2", "parse-worker"]));
    for (const [name, svc] of workers) {
      const port = listeners(name, svc)[0]?.port;
      expect(targets, name).toContainEqual(expect.objectContaining({ target: `${name}:${port}`, path: "/metrics/prometheus" }));
    }
  });

  it("scrapes the Spark master, worker and driver through Spark's Prometheus servlet", () => {
    for (const name of ["spark-master", "spark-worker", "spark"]) {
      expect(targets.some((t) => t.target.startsWith(`${name}:`) && t.path.includes("prometheus")), name).toBe(true);
    }
    // The servlet's path must be the one the daemons are configured with.
    const masterOpts = services["spark-master"]?.environment?.SPARK_MASTER_OPTS ?? "";
    expect(masterOpts).toContain("master.sink.prometheusServlet.path=/metrics/master/prometheus");
    expect(targets).toContainEqual(expect.objectContaining({ target: "spark-master:8080", path: "/metrics/master/prometheus/" }));
  });
});
