import net from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseStackConfig, withScale } from "@/lib/config/stack";
import { createLogger } from "@/lib/log";
import { startStack } from "@/scripts/launcher";
import { LauncherArgsError, MAX_INSTANCES, parseLauncherArgs } from "@/scripts/launcher/flags";
import { assertPlanPortsFree, checkPortPlan, planProcesses } from "@/scripts/launcher/instances";
import { stackProcesses } from "@/scripts/launcher/processes";
import { StackError } from "@/scripts/stack-error";

const known = new Set(["--reddb", "--spark"]);
const dataDir = mkdtempSync(path.join(os.tmpdir(), "launcher-scale-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe("npm start -- --embedders N --indexers N", () => {
  it.each([
    [[], { flags: [], scale: { embedders: 1, indexers: 1 } }],
    [["--reddb"], { flags: ["--reddb"], scale: { embedders: 1, indexers: 1 } }],
    [["--embedders", "2"], { flags: [], scale: { embedders: 2, indexers: 1 } }],
    [["--embedders=3", "--spark", "--indexers", "2"], { flags: ["--spark"], scale: { embedders: 3, indexers: 2 } }],
    [["--indexers", String(MAX_INSTANCES)], { flags: [], scale: { embedders: 1, indexers: MAX_INSTANCES } }],
  ])("%j is read as %j", (argv, expected) => {
    const args = parseLauncherArgs(argv, known);
    expect({ flags: [...args.flags], scale: args.scale }).toEqual(expected);
  });

  it.each([
    [["--embedders"], "--embedders takes a number of instances from 1 to 16"],
    [["--embedders", "0"], '--embedders takes a number of instances from 1 to 16, not "0"'],
    [["--indexers", "17"], '--indexers takes a number of instances from 1 to 16, not "17"'],
    [["--indexers", "-1"], '--indexers takes a number of instances from 1 to 16, not "-1"'],
    [["--embedders", "two"], '--embedders takes a number of instances from 1 to 16, not "two"'],
    [["--embedders=1e1"], '--embedders takes a number of instances from 1 to 16, not "1e1"'],
    [["--embedders", "--reddb"], '--embedders takes a number of instances from 1 to 16, not "--reddb"'],
    [["--embedders", "2", "--embedders", "3"], "--embedders given twice"],
    [["--frobnicate"], "unknown option --frobnicate (known: --reddb --spark --embedders N --indexers N)"],
    [["--x\nrm -rf /"], "unknown option --x\\nrm -rf / (known: --reddb --spark --embedders N --indexers N)"],
  ])("%j is refused with one line: %s", (argv, message) => {
    let err: unknown;
    try {
      parseLauncherArgs(argv, known);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LauncherArgsError);
    expect((err as Error).message).toBe(message);
    expect((err as Error).message).not.toContain("\n");
  });
});

const plan = (env: Record<string, string>, scale: { embedders: number; indexers: number }) => {
  const cfg = withScale(parseStackConfig({ DATA_DIR: dataDir, ...env }), scale);
  return { cfg, plan: planProcesses(stackProcesses, cfg) };
};

describe("the plan of processes", () => {
  it("starts each scaled process N times on consecutive ports, under its own name", () => {
    const { cfg, plan: p } = plan({}, { embedders: 2, indexers: 3 });
    const started = p.filter((x) => !["spark", "reddb"].includes(x.process.name));
    expect(started.map((x) => [x.name, x.port])).toEqual([
      ["kafka", 9092],
      ["infermesh", 9000],
      ["infermesh-1", 9001],
      ["parse-worker", 9101],
      ["embed-worker", 9100],
      ["emb-indexer", 9102],
      ["emb-indexer-1", 9103],
      ["emb-indexer-2", 9104],
      ["console", 3000],
    ]);
    const byName = new Map(p.map((x) => [x.name, x]));
    // Each instance is told its port, and is probed for readiness there.
    expect(byName.get("infermesh-1")!.env).toEqual({ INFERMESH_PORT: "9001" });
    const launch = byName.get("infermesh-1")!.process.launch;
    expect(launch.kind !== "kafka" && launch.readyUrl({ cfg: byName.get("infermesh-1")!.cfg, root: "/r" })).toBe("http://127.0.0.1:9001/health");
    // The embed-worker (and the console) learn every bundled service.
    expect(byName.get("infermesh")!.process.provides!(cfg)).toEqual({ INFERMESH_URL: "http://127.0.0.1:9000,http://127.0.0.1:9001" });
    // Indexer i ≥ 1: its own index directory, address and stable id; the first keeps the operator's.
    expect(byName.get("emb-indexer")!.env).toEqual({});
    expect(byName.get("emb-indexer-2")!.env).toEqual({
      INDEXER_PORT: "9104",
      INDEX_DIR: `${path.join(dataDir, "index")}-2`,
      INDEXER_ADVERTISED_URL: "http://127.0.0.1:9104",
      INDEXER_INSTANCE: "emb-indexer-2",
    });
    expect(() => checkPortPlan(p, cfg)).not.toThrow();
  });

  it("an operator's INFERMESH_URL list starts no bundled service and is handed on as given", () => {
    const { cfg, plan: p } = plan({ INFERMESH_URL: "http://gpu-a:9000,http://gpu-b:9000" }, { embedders: 1, indexers: 1 });
    expect(p.filter((x) => x.process.name === "infermesh").map((x) => x.name)).toEqual(["infermesh"]);
    expect(p.find((x) => x.name === "infermesh")!.process.provides!(cfg)).toEqual({ INFERMESH_URL: "http://gpu-a:9000,http://gpu-b:9000" });
  });

  it.each([
    [{ INFERMESH_PORT: "9095" }, { embedders: 6, indexers: 1 }, "port 9100 for embed-worker is also infermesh-5's: move one (EMBED_METRICS_PORT or INFERMESH_PORT) or start fewer (--embedders)"],
    [{ INDEXER_PORT: "2999" }, { embedders: 1, indexers: 2 }, "port 3000 for console is also emb-indexer-1's: move one (CONSOLE_PORT or INDEXER_PORT) or start fewer (--indexers)"],
    [{ INDEXER_PORT: "65535" }, { embedders: 1, indexers: 2 }, "port 65536 for emb-indexer-1 is past 65535: start fewer instances or lower INDEXER_PORT"],
    [{ INFERMESH_PORT: "9090" }, { embedders: 4, indexers: 1 }, "port 9092 for infermesh-2 is also kafka's: move one (INFERMESH_PORT or KAFKA_PORT) or start fewer (--embedders)"],
    [{ INFERMESH_PORT: "9093", KAFKA_PORT: "19092" }, { embedders: 1, indexers: 1 }, "port 9093 for infermesh is also the Kafka controller's: move one (INFERMESH_PORT or KAFKA_CONTROLLER_PORT)"],
  ])("refuses ports that land on each other, in one line (%j, %j)", (env, scale, message) => {
    const { cfg, plan: p } = plan(env, scale);
    expect(() => checkPortPlan(p, cfg)).toThrow(new StackError(message));
  });

  it("refuses, in one line, an instance's port that another process listens on", async () => {
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, "127.0.0.1", r));
    const taken = (holder.address() as net.AddressInfo).port;
    try {
      const { cfg, plan: p } = plan({ INFERMESH_PORT: String(taken - 1) }, { embedders: 2, indexers: 1 });
      const infermesh = p.filter((x) => x.process.name === "infermesh");
      await expect(assertPlanPortsFree(infermesh, cfg)).rejects.toThrow(
        new StackError(`port ${taken} for infermesh-1 is taken: stop whatever listens there (ss -ltnp 'sport = :${taken}') or set INFERMESH_PORT`),
      );
    } finally {
      await new Promise((r) => holder.close(r));
    }
  });

  it("npm start refuses --embedders beside an operator's INFERMESH_URL before starting anything", async () => {
    const cfg = parseStackConfig({ DATA_DIR: dataDir, INFERMESH_URL: "http://gpu-a:9000", KAFKA_BOOTSTRAP_SERVERS: "127.0.0.1:1" });
    await expect(startStack({ cfg, env: { ...process.env }, flags: new Set(), scale: { embedders: 2, indexers: 1 }, log: createLogger("test", "silent") })).rejects.toThrow(
      /^--embedders starts bundled embedding services, but INFERMESH_URL names the operator's/,
    );
  });
});
