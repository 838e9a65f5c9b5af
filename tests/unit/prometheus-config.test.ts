import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { composeConfig, isLoopback, listeners, repoRoot } from "../helpers/compose";
import { promtoolCheckConfig as check } from "../helpers/promtool";

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
    const workers = Object.entries(services).filter(([, svc]) => /workers\/(embed|indexer|infermesh|parse)\/index\.ts/.test(([] as string[]).concat(svc.command ?? []).join(" ")));
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
