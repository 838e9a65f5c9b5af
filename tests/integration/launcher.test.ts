import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import net from "node:net";
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/launcher/ports";
import { repoRoot } from "../../scripts/launcher";
import { descendants, isAlive, pgrep, startCommand, type RunningCommand } from "../helpers/processes";
import { waitFor } from "../helpers/wait-for";

// `npm start` exactly as an operator runs it (bootstrap → launcher → processes),
// on ports and a data directory of its own.
async function npmStart(extraEnv: Record<string, string> = {}) {
  mkdirSync(path.join(repoRoot, "data", "test"), { recursive: true });
  const dataDir = mkdtempSync(path.join(repoRoot, "data", "test", "launcher-"));
  const ports = { console: await freePort(), kafka: await freePort(), controller: await freePort(), infermesh: await freePort(), indexer: await freePort(), embedWorker: await freePort(), parse: await freePort() };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    CONSOLE_PORT: String(ports.console),
    KAFKA_PORT: String(ports.kafka),
    KAFKA_CONTROLLER_PORT: String(ports.controller),
    INFERMESH_PORT: String(ports.infermesh),
    INDEXER_PORT: String(ports.indexer),
    EMBED_METRICS_PORT: String(ports.embedWorker),
    PARSE_METRICS_PORT: String(ports.parse),
    ...extraEnv,
  };
  // Whatever the caller's environment says, this stack runs its own services.
  delete env.KAFKA_BOOTSTRAP_SERVERS;
  delete env.INFERMESH_URL;
  delete env.INDEXER_URL;
  delete env.EMBED_WORKER_METRICS_URL;
  delete env.PARSE_METRICS_URL;
  const run = startCommand(process.execPath, ["scripts/bootstrap.mjs", "start"], { cwd: repoRoot, env });
  runs.push({ run, dataDir });
  return { run, dataDir, ports };
}

const runs: { run: RunningCommand; dataDir: string }[] = [];

afterEach(async () => {
  for (const { run, dataDir } of runs.splice(0)) {
    if (run.child.exitCode === null) {
      process.kill(-run.child.pid!, "SIGKILL");
      await run.exited;
    }
    for (const line of pgrep(dataDir)) process.kill(Number(line.split(" ")[0]), "SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  }
});

describe("npm start", () => {
  it("runs Kafka and the console, carries records, and Ctrl-C leaves nothing running", async () => {
    const { run, dataDir, ports } = await npmStart();
    await waitFor("the launcher to report the stack up", () => run.output().includes("Embedline is running"), 150_000, 500);

    const health = (await (await fetch(`http://127.0.0.1:${ports.console}/api/health`)).json()) as {
      components: { name: string; ok: boolean }[];
    };
    expect(health.components.map((c) => [c.name, c.ok])).toEqual([
      ["kafka", true],
      ["embedding-service", true],
      ["embed-worker", true],
      ["indexer", true],
      ["console", true],
    ]);

    const kafka = new Kafka({ clientId: "launcher-test", brokers: [`127.0.0.1:${ports.kafka}`], logLevel: logLevel.NOTHING });
    const value = JSON.stringify({ text: "hello from the launcher test", id: `launcher-${Date.now()}` });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: "agent.results", messages: [{ value }] });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: `launcher-test-${Date.now()}` });
    const seen: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: "agent.results", fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value?.toString() ?? "") });
    await waitFor("the record to come back from agent.results", () => seen.includes(value), 60_000);
    await consumer.disconnect();

    const tree = descendants(run.child.pid!);
    expect(pgrep(dataDir).length).toBeGreaterThan(0); // the broker runs from this data dir
    process.kill(-run.child.pid!, "SIGINT"); // what Ctrl-C in a terminal sends
    expect(await run.exited).toBe(0);
    await waitFor("every process of the stack to be gone", () => tree.every((pid) => !isAlive(pid)), 10_000);
    expect(pgrep(dataDir)).toEqual([]);
  });

  it("refuses a taken port with one clear line and starts nothing", async () => {
    const blocker = net.createServer().listen(0, "127.0.0.1");
    await new Promise((r) => blocker.once("listening", r));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      const { run, dataDir } = await npmStart({ CONSOLE_PORT: String(taken) });
      expect(await run.exited).toBe(1);
      expect(run.output()).toContain(`embedline: port ${taken} for console is taken`);
      expect(pgrep(dataDir)).toEqual([]);
    } finally {
      blocker.close();
    }
  });

  it("says how to fix a missing Java and exits non-zero", async () => {
    // A PATH holding only node: no java, no mvn.
    const onlyNode = mkdtempSync(path.join(os.tmpdir(), "embedline-path-"));
    symlinkSync(process.execPath, path.join(onlyNode, "node"));
    const { run } = await npmStart({ PATH: onlyNode, JAVA_HOME: "" });
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(/embedline: Java 17\+ not found/);
  });

  it("gives up on a broker that does not answer within its deadline, leaving no JVM behind", async () => {
    const { run, dataDir } = await npmStart({ KAFKA_START_TIMEOUT_SEC: "1" });
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(/embedline: Kafka broker did not answer on 127\.0\.0\.1:\d+ within 1 s/);
    expect(pgrep(dataDir)).toEqual([]);
  });

  it("rejects a bad configuration value naming the variable", async () => {
    const { run } = await npmStart({ KAFKA_HEAP: "lots" });
    expect(await run.exited).toBe(2);
    expect(run.output()).toContain('embedline: invalid configuration: KAFKA_HEAP="lots": expected a JVM heap size such as 512m or 1g');
  });
});
