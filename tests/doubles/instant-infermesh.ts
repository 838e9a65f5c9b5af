/**
 * TEST DOUBLE of an InferMesh embedding service (POST /embed {model, inputs} →
 * {vectors, model, dim, truncated}, as the bundled service answers; by default
 * as its default model, all-MiniLM-L6-v2 at 384 dims) that answers at once (or after `delayMs`) with
 * deterministic vectors, so pipeline tests and the transport benchmark measure
 * the pipeline, not a model. It can be stopped and started again on the same
 * port (an outage), and marker strings make it misbehave as a real upstream may:
 *  - an input containing REJECT_MARKER makes the whole request a 422;
 *  - an input containing NAN_MARKER gets a NaN in its vector (a body JSON cannot carry);
 *  - an input containing SHORT_MARKER gets a vector one component short of `dim`.
 */
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export const REJECT_MARKER = "\u27e6reject\u27e7";
export const NAN_MARKER = "\u27e6nan\u27e7";
export const SHORT_MARKER = "\u27e6short\u27e7";

/**
 * Components come in blocks of BLOCK; block b is set by byte b % 32 of the
 * text's sha256: component i is one of 256 values k/128 − 1 with
 * k = (seed[⌊i/BLOCK⌋ % 32] + i) mod 256.
 */
const BLOCK = 16;
const component = (seed: Buffer, i: number) => (seed[Math.floor(i / BLOCK) % 32]! + i) % 256;
const format = (k: number) => String(k / 128 - 1);

/** A unit-free deterministic vector: sha256 of the text spread over `dim` components in [-1, 1). */
export function doubleVector(text: string, dim: number): number[] {
  const seed = createHash("sha256").update(text).digest();
  return Array.from({ length: dim }, (_, i) => component(seed, i) / 128 - 1);
}

/**
 * Per dimension, every block's JSON text for each of the 256 seed bytes,
 * formatted once: a vector is then 32 string joins, so the double costs the
 * pipeline benchmark (which shares its cores) next to nothing.
 */
const blockTexts = new Map<number, string[][]>();
function blocksFor(dim: number): string[][] {
  let blocks = blockTexts.get(dim);
  if (!blocks) {
    blocks = Array.from({ length: Math.ceil(dim / BLOCK) }, (_, b) =>
      Array.from({ length: 256 }, (_, byte) => {
        const parts: string[] = [];
        for (let i = b * BLOCK; i < Math.min(dim, (b + 1) * BLOCK); i++) parts.push(format((byte + i) % 256));
        return parts.join(",");
      }),
    );
    blockTexts.set(dim, blocks);
  }
  return blocks;
}

/** doubleVector(text, dim) as JSON array text, without formatting a number. */
function doubleVectorJson(text: string, dim: number, nanFirst: boolean): string {
  const seed = createHash("sha256").update(text).digest();
  const blocks = blocksFor(dim);
  let json = "[";
  for (let b = 0; b < blocks.length; b++) json += (b > 0 ? "," : "") + blocks[b]![seed[b % 32]!];
  // NaN is not JSON: a body carrying it is what a broken upstream sends.
  if (nanFirst) json = `[NaN${json.includes(",") ? json.slice(json.indexOf(",")) : ""}`;
  return `${json}]`;
}

export async function startInstantInfermesh(opts: { dim?: number; port?: number; model?: string; delayMs?: number } = {}) {
  const dim = opts.dim ?? 384;
  const model = opts.model ?? "all-MiniLM-L6-v2";
  let calls = 0;
  const handler = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
    if (req.method === "GET" && req.url === "/health") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ status: "ok", model, dim }));
      return;
    }
    if (req.method !== "POST" || req.url !== "/embed") {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "not found" } }));
      return;
    }
    calls++;
    // A model's compute time, when a test needs the worker to have work in flight.
    if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
    const { inputs } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { inputs: string[] };
    if (inputs.some((t) => t.includes(REJECT_MARKER))) {
      res.writeHead(422, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "input rejected", code: "invalid_input" } }));
      return;
    }
    const vectors = inputs.map((t) => doubleVectorJson(t, t.includes(SHORT_MARKER) ? dim - 1 : dim, t.includes(NAN_MARKER)));
    // No input is ever cut here: `truncated` ([{index, tokens, kept_tokens}] in the real service) stays empty.
    const body = `{"vectors":[${vectors.join(",")}],"model":${JSON.stringify(model)},"dim":${dim},"truncated":[]}`;
    res.writeHead(200, { "content-type": "application/json" }).end(body);
  });

  let server: Server = handler;
  await new Promise<void>((r) => server.listen(opts.port ?? 0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    calls: () => calls,
    /** Stop answering: connections are refused until start(). */
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
    async start() {
      server = handler;
      await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
    },
    close() {
      return this.stop().catch(() => undefined);
    },
  };
}

export type InstantInfermesh = Awaited<ReturnType<typeof startInstantInfermesh>>;
