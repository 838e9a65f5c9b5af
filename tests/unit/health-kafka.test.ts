import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probeKafka } from "@/lib/kafka/health";
import { createLogger } from "@/lib/log";
import { runProbe, type HealthComponent } from "@/lib/health/probe";
import { freePort } from "../harness/free-port";
import { waitFor } from "../harness/wait-for";

const log = createLogger("test", "silent");

const kafkaComponent = (brokers: string[], timeoutMs: number): HealthComponent => ({
  name: "kafka",
  kind: "kafka",
  target: brokers.join(","),
  probe: async (signal) => {
    await probeKafka({ brokers, log, signal, connectionTimeoutMs: timeoutMs });
  },
});

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

/** Open TCP sockets of this process (Node's resource names; stable since Node 17). */
const openSockets = () => process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap").length;

beforeAll(() => {
  process.on("unhandledRejection", onUnhandled);
});
afterAll(() => {
  process.off("unhandledRejection", onUnhandled);
});

describe("Kafka probe", () => {
  it("answers ok:false quickly with a readable error when no broker listens", async () => {
    const socketsBefore = openSockets();
    const broker = `127.0.0.1:${await freePort()}`;
    const result = await runProbe(kafkaComponent([broker], 5_000), 5_000);

    expect(result.ok).toBe(false);
    expect(result.target).toBe(broker);
    // Refused at once, not left to run into the deadline.
    expect(result.error).not.toMatch(/timed out/);
    expect(result.error).toBe(`connection refused (${broker})`);
    expect(result.latencyMs!).toBeLessThan(5_000);

    await waitFor("the probe's sockets to close", () => openSockets() <= socketsBefore, 2_000, 5);
    expect(unhandled).toEqual([]);
  });

  describe("against a broker that accepts connections but never answers", () => {
    let silent: Server;
    let port: number;
    const sockets = new Set<Socket>();

    beforeAll(async () => {
      silent = createServer((s) => {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
      }).listen(0, "127.0.0.1");
      await once(silent, "listening");
      port = (silent.address() as AddressInfo).port;
    });
    afterAll(async () => {
      for (const s of sockets) s.destroy();
      silent.close();
      await once(silent, "close");
    });

    it("stops at the deadline and reports a timeout", async () => {
      const result = await runProbe(kafkaComponent([`127.0.0.1:${port}`], 300), 300);
      expect(result).toMatchObject({ ok: false, error: "timed out after 300 ms" });
      expect(unhandled).toEqual([]);
    });
  });

  it("rejects at once when the signal is already aborted", async () => {
    const signal = AbortSignal.abort(new Error("shutting down"));
    await expect(probeKafka({ brokers: ["127.0.0.1:1"], log, signal, connectionTimeoutMs: 1_000 })).rejects.toThrow("shutting down");
  });
});
