import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, symlinkSync } from "node:fs";
import os from "node:os";
import net from "node:net";
import { once } from "node:events";
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { afterEach, describe, expect, it } from "vitest";
import { healthResponseSchema } from "../../lib/health/schema";
import { npmStart as startNpmStack, type NpmStack } from "../harness/npm-start";
import { descendants, isAlive, pgrep } from "../harness/processes";
import { waitFor } from "../harness/wait-for";

const stacks: NpmStack[] = [];

// `npm start` exactly as an operator runs it, on ports and a data directory of its own.
async function npmStart(extraEnv: Record<string, string> = {}) {
  const stack = await startNpmStack(extraEnv);
  stacks.push(stack);
  return stack;
}

afterEach(async (ctx) => {
  // What the stack printed is the only account of why a process restarted or a check failed.
  if (ctx.task.result?.state === "fail") for (const stack of stacks) process.stderr.write(`--- npm start output\n${stack.run.output().slice(-30_000)}\n`);
  for (const stack of stacks.splice(0)) await stack.destroy();
});

describe("npm start", () => {
  // A first start may build the console (next build): minutes on a busy 2-core machine.
  // With CONSOLE_TOKEN set, as an operator who wants a login starts it (issue 13:
  // the readiness probe once got 401 here and the stack never came up).
  it("runs Kafka and the console with CONSOLE_TOKEN set, carries records, and Ctrl-C leaves nothing running", { timeout: 300_000 }, async () => {
    const token = randomBytes(24).toString("hex");
    const { run, dataDir, ports, stateFile } = await npmStart({ CONSOLE_TOKEN: token });
    await waitFor("the launcher to report the stack up", () => run.output().includes("Embedline is running"), 270_000, 500);

    expect(run.output()).toContain(`Console: http://127.0.0.1:${ports.console}  (Ctrl-C stops everything; a process that exits is restarted; log in with CONSOLE_TOKEN)`);
    const consoleUrl = `http://127.0.0.1:${ports.console}`;
    // Liveness answers anyone and says nothing more; everything else wants the token.
    const live = await fetch(`${consoleUrl}/api/live`);
    expect([live.status, await live.json()]).toEqual([200, { status: "ok" }]);
    const anonymous = await fetch(`${consoleUrl}/api/health`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toBe("Bearer");
    expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
    const wrong = await fetch(`${consoleUrl}/api/health`, { headers: { authorization: `Bearer ${token}x` } });
    expect(wrong.status).toBe(401);
    await wrong.body?.cancel();

    const answer = await fetch(`${consoleUrl}/api/health`, { headers: { authorization: `Bearer ${token}` } });
    expect(answer.status).toBe(200);
    const health = (await answer.json()) as {
      status: string;
      components: { name: string; state: string }[];
    };
    // The default stack: RedDB not configured and Spark not started are not in use, and the status stays ok.
    expect(health.status).toBe("ok");
    expect(health.components.map((c) => [c.name, c.state])).toEqual([
      ["kafka", "ok"],
      ["embedding-service", "ok"],
      ["reddb", "not_in_use"],
      ["parse-worker", "ok"],
      ["spark", "not_in_use"],
      ["embed-worker", "ok"],
      ["indexer", "ok"],
      ["console", "ok"],
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

    // Secrets are never printed, by the launcher or by any process it started, nor passed on a command line.
    expect(run.output()).not.toContain(token);
    expect(pgrep(token)).toEqual([]);
    const tree = descendants(run.child.pid!);
    expect(pgrep(dataDir).length).toBeGreaterThan(0); // the broker runs from this data dir
    // The workers run their built JavaScript with plain node: no TypeScript entry, and no esbuild service of theirs.
    const proc = (pid: number) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        return { pid, ppid: Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]), cmd: readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ") };
      } catch {
        return { pid, ppid: 0, cmd: "" };
      }
    };
    const procs = tree.map(proc);
    const workers = procs.filter((p) => /\.build\/workers\/[\w-]+\.mjs\b/.test(p.cmd));
    expect(workers.map((p) => p.cmd.match(/([\w-]+)\.mjs/)![1]).sort()).toEqual(["emb-indexer", "embed-worker", "infermesh", "parse-worker"]);
    expect(procs.filter((p) => /workers\/\w+\/index\.ts|spark\/run\.ts/.test(p.cmd)).map((p) => p.cmd)).toEqual([]);
    expect(procs.filter((p) => p.cmd.includes("esbuild") && workers.some((w) => w.pid === p.ppid)).map((p) => p.cmd)).toEqual([]);
    // So does the launcher (bootstrap's one child): nothing in the stack loads tsx or keeps an esbuild service.
    expect(procs.filter((p) => p.ppid === run.child.pid).map((p) => p.cmd.trim().split(" ").slice(1))).toEqual([["--conditions=react-server", "--enable-source-maps", expect.stringMatching(/\/\.build\/launcher\/start\.mjs$/)]]);
    expect(procs.filter((p) => /\btsx\b|esbuild/.test(p.cmd)).map((p) => p.cmd)).toEqual([]);
    process.kill(-run.child.pid!, "SIGINT"); // what Ctrl-C in a terminal sends
    expect(await run.exited).toBe(0);
    await waitFor("every process of the stack to be gone", () => tree.every((pid) => !isAlive(pid)), 10_000);
    expect(pgrep(dataDir)).toEqual([]);
    // A console started by hand later must not read a dead launcher's state.
    expect(existsSync(stateFile)).toBe(false);
  });

  it("restarts a process killed with SIGKILL and shows it in /api/health; stops the stack when one crash-loops", { timeout: 300_000 }, async () => {
    const { run, dataDir, ports } = await npmStart({ LAUNCHER_CRASH_LOOP_RESTARTS: "2", LAUNCHER_CRASH_LOOP_WINDOW_SEC: "120" });
    await waitFor("the launcher to report the stack up", () => run.output().includes("Embedline is running"), 270_000, 500);
    const supervision = async () => {
      const health = healthResponseSchema.parse(await (await fetch(`http://127.0.0.1:${ports.console}/api/health?degraded=200`)).json());
      if (!health.supervisor?.supervised) throw new Error(`not supervised: ${JSON.stringify(health.supervisor)}`);
      return new Map(health.supervisor.state.processes.map((p) => [p.name, p]));
    };
    const before = await supervision();
    expect([...before.values()].map((p) => [p.name, p.state, p.restarts])).toEqual(
      ["kafka", "infermesh", "parse-worker", "embed-worker", "emb-indexer", "console"].map((name) => [name, "running", 0]),
    );

    // kill -9 of one child: it comes back by itself, the rest keeps running.
    const worker = before.get("embed-worker")!;
    process.kill(worker.pid!, "SIGKILL");
    const after = await waitFor("the embed-worker to be restarted and ready", async () => {
      const p = (await supervision()).get("embed-worker")!;
      return p.state === "running" && p.pid !== worker.pid ? p : undefined;
    }, 90_000, 500);
    expect(after).toMatchObject({ restarts: 1, last_exit: { code: null, signal: "SIGKILL" } });
    expect(isAlive(after.pid!)).toBe(true);
    expect(run.output()).toContain("embed-worker exited unexpectedly (signal SIGKILL); restarting in 1 s");
    const others = await supervision();
    for (const name of ["kafka", "infermesh", "parse-worker", "emb-indexer", "console"]) expect(others.get(name)).toMatchObject({ restarts: 0, pid: before.get(name)!.pid });

    // A child that exits at once on every start (its port is taken from under it):
    // after LAUNCHER_CRASH_LOOP_RESTARTS restarts the stack stops, with one line naming it.
    const tree = descendants(run.child.pid!);
    const parse = before.get("parse-worker")!;
    process.kill(parse.pid!, "SIGKILL");
    await waitFor("the parse worker to be gone", () => !isAlive(parse.pid!), 10_000, 20);
    const squatter = net.createServer().listen(ports.parse, "127.0.0.1");
    await once(squatter, "listening");
    try {
      expect(await run.exited).toBe(1);
    } finally {
      squatter.close();
    }
    expect(run.output()).toMatch(/embedline: parse-worker is crash-looping \(3 exits within 120 s, last: exit code \d+[^\n]*\); stopping the stack\n/);
    await waitFor("every process of the stack to be gone", () => tree.every((pid) => !isAlive(pid)), 20_000);
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

  it("refuses a model the bundled embedding service does not run, naming those it does, before starting anything", async () => {
    const { run, dataDir } = await npmStart({ INFERMESH_MODEL: "use-lite" });
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain(
      "embedline: INFERMESH_MODEL=use-lite is not a model the bundled embedding service runs: use one of all-MiniLM-L6-v2, bge-small-en-v1.5, or set INFERMESH_URL to a service that serves it",
    );
    expect(pgrep(dataDir)).toEqual([]);
  });

  it("rejects a bad configuration value naming the variable", async () => {
    const { run } = await npmStart({ KAFKA_HEAP: "lots" });
    expect(await run.exited).toBe(2);
    expect(run.output()).toContain('embedline: invalid configuration: KAFKA_HEAP="lots": expected a JVM heap size such as 512m or 1g');
  });
});
