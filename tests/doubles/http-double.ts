/**
 * TEST DOUBLE: a local node:http server standing in for an embedding service
 * the project does not run itself (TEI, an OpenAI-compatible API, Ollama, a
 * real InferMesh). Each wire-format double (tei-double.ts, …) says how its
 * upstream reads a request and shapes an answer, following that upstream's
 * documented API; this file plays a script of behaviours, one per request.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface WireDouble {
  /** The path the upstream serves embeddings on. */
  path: string;
  /** The texts in a request body. */
  inputs(body: unknown): string[];
  /** A successful answer for these vectors. */
  answer(vectors: number[][], body: unknown): unknown;
}

export type Step =
  | { kind: "ok" }
  /** Answer with this status (and headers/body), e.g. 503 or 429 + Retry-After. */
  | { kind: "status"; status: number; headers?: Record<string, string>; body?: unknown }
  /** Never answer (until the client gives up or the double closes). */
  | { kind: "stall" }
  /** A 200 whose body is this exact text (e.g. with a NaN the JSON cannot carry). */
  | { kind: "raw"; body: string }
  /** A successful answer with the vector list changed, e.g. one dropped. */
  | { kind: "mangle"; vectors: (v: number[][]) => unknown[] };

export interface Recorded {
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

/** A deterministic vector per text, so tests can check order: [length, first char code, 1, -1]. */
export const fakeVector = (text: string): number[] => [text.length, text.codePointAt(0) ?? 0, 1, -1];

export async function startDouble(wire: WireDouble) {
  let script: Step[] = [];
  const requests: Recorded[] = [];
  const stalled = new Set<() => void>();

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "null") as unknown;
    requests.push({ path: req.url ?? "", headers: req.headers, body });
    if (req.url !== wire.path) {
      res.writeHead(404).end(JSON.stringify({ error: "not found" }));
      return;
    }
    const step = script.shift() ?? { kind: "ok" };
    const vectors = wire.inputs(body).map(fakeVector);
    const json = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(typeof payload === "string" ? payload : JSON.stringify(payload));
    };
    switch (step.kind) {
      case "ok":
        return json(200, wire.answer(vectors, body));
      case "status":
        return json(step.status, step.body ?? { error: `status ${step.status}` }, step.headers);
      case "raw":
        return json(200, step.body);
      case "mangle":
        return json(200, wire.answer(step.vectors(vectors) as number[][], body));
      case "stall":
        await new Promise<void>((resolve) => {
          stalled.add(resolve);
          res.on("close", resolve);
        });
        if (!res.writableEnded) res.destroy();
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    /** Behaviours for the next requests, in order; after them every request succeeds. */
    script(steps: Step[]) {
      script = [...steps];
    },
    async close() {
      for (const r of stalled) r();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export type Double = Awaited<ReturnType<typeof startDouble>>;
