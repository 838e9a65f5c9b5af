import { afterEach, describe, expect, it } from "vitest";
import { createProviderClient } from "@/lib/embedding/client";
import { BadEmbeddingResponseError, EmbeddingRejectedError, EmbeddingUnavailableError } from "@/lib/embedding/errors";
import type { ProviderName } from "@/lib/embedding/providers";
import { fakeVector, startDouble, type Double, type WireDouble } from "../doubles/http-double";
import { infermeshDouble } from "../doubles/infermesh-double";
import { ollamaDouble } from "../doubles/ollama-double";
import { openaiDouble } from "../doubles/openai-double";
import { teiDouble } from "../doubles/tei-double";

const cases: { name: string; provider: ProviderName; wire: WireDouble; expectBody: (texts: string[]) => unknown }[] = [
  { name: "infermesh {vectors}", provider: "infermesh", wire: infermeshDouble("vectors"), expectBody: (t) => ({ model: "m1", inputs: t }) },
  { name: "infermesh {embeddings}", provider: "infermesh", wire: infermeshDouble("embeddings"), expectBody: (t) => ({ model: "m1", inputs: t }) },
  { name: "tei", provider: "tei", wire: teiDouble, expectBody: (t) => ({ inputs: t, truncate: true }) },
  { name: "openai", provider: "openai", wire: openaiDouble, expectBody: (t) => ({ model: "m1", input: t, encoding_format: "float" }) },
  { name: "ollama", provider: "ollama", wire: ollamaDouble, expectBody: (t) => ({ model: "m1", input: t }) },
];

const texts = ["alpha", "Bravo two", "c"];
let double: Double | undefined;
afterEach(async () => {
  await double?.close();
  double = undefined;
});

function client(provider: ProviderName, url: string, over: Partial<{ timeoutMs: number; retries: number; backoffMs: number; apiKey: string }> = {}) {
  return createProviderClient(provider, { url, model: "m1", apiKey: undefined, timeoutMs: 2000, retries: 2, backoffMs: 10, connections: 2, ...over });
}

describe.each(cases)("$name client", ({ provider, wire, expectBody }) => {
  it("sends the documented request and returns one vector per input, in order", async () => {
    double = await startDouble(wire);
    const c = client(provider, double.url, { apiKey: "s3cret" });
    const res = await c.embed(texts);
    expect(res.vectors).toEqual(texts.map(fakeVector));
    expect(res.dim).toBe(4);
    expect(res.model).toBe("m1");
    expect(res.attempts).toBe(1);
    expect(res.rttMs).toBeGreaterThan(0);
    expect(double.requests).toHaveLength(1);
    expect(double.requests[0]?.path).toBe(wire.path);
    expect(double.requests[0]?.body).toEqual(expectBody(texts));
    expect(double.requests[0]?.headers.authorization).toBe("Bearer s3cret");
    await c.close();
  });

  it("retries a server that fails twice with 503, then answers", async () => {
    double = await startDouble(wire);
    double.script([{ kind: "status", status: 503 }, { kind: "status", status: 502 }]);
    const c = client(provider, double.url, { retries: 2 });
    const res = await c.embed(texts);
    expect(res.vectors).toEqual(texts.map(fakeVector));
    expect(res.attempts).toBe(3);
    expect(double.requests).toHaveLength(3);
    await c.close();
  });

  it("gives up with EmbeddingUnavailableError when every attempt fails", async () => {
    double = await startDouble(wire);
    double.script([{ kind: "status", status: 500 }, { kind: "status", status: 500 }]);
    const c = client(provider, double.url, { retries: 1 });
    const err = await c.embed(texts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmbeddingUnavailableError);
    expect((err as EmbeddingUnavailableError).attempts).toBe(2);
    expect((err as Error).message).toContain("HTTP 500");
    await c.close();
  });

  it("times out a server that stalls, retries, and reports the outage", async () => {
    double = await startDouble(wire);
    double.script([{ kind: "stall" }, { kind: "stall" }]);
    const c = client(provider, double.url, { timeoutMs: 150, retries: 1 });
    const started = performance.now();
    const err = await c.embed(texts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmbeddingUnavailableError);
    expect((err as Error).message).toContain("timed out");
    expect(double.requests).toHaveLength(2);
    // Two bounded attempts, not a hang.
    expect(performance.now() - started).toBeLessThan(3000);
    await c.close();
  });

  it("rejects a wrong vector count without retrying", async () => {
    double = await startDouble(wire);
    double.script([{ kind: "mangle", vectors: (v) => v.slice(1) }]);
    const c = client(provider, double.url);
    const err = await c.embed(texts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadEmbeddingResponseError);
    expect((err as Error).message).toContain("expected 3 vectors, got 2");
    expect(double.requests).toHaveLength(1);
    await c.close();
  });

  it("rejects NaN in a vector (JSON null, or a bare NaN token)", async () => {
    double = await startDouble(wire);
    double.script([{ kind: "mangle", vectors: (v) => v.map((x, i) => (i === 1 ? [x[0], NaN, 1, 1] : x)) }]);
    const c = client(provider, double.url);
    const err = await c.embed(texts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadEmbeddingResponseError);
    expect((err as Error).message).toContain("vector 1 has a non-finite component at 1");

    const raw = JSON.stringify(wire.answer(texts.map(fakeVector), { model: "m1", inputs: texts, input: texts })).replace("-1", "NaN");
    double.script([{ kind: "raw", body: raw }]);
    await expect(c.embed(texts)).rejects.toBeInstanceOf(BadEmbeddingResponseError);
    await c.close();
  });

  it("waits out 429 for as long as Retry-After says", async () => {
    double = await startDouble(wire);
    double.script([{ kind: "status", status: 429, headers: { "retry-after": "1" } }]);
    const c = client(provider, double.url, { backoffMs: 10 });
    const started = performance.now();
    const res = await c.embed(texts);
    expect(res.attempts).toBe(2);
    // Backoff alone would be ~10 ms: the second attempt came after Retry-After.
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    await c.close();
  });

  it("does not retry a 4xx rejection and says whether the input or the setup is at fault", async () => {
    double = await startDouble(wire);
    double.script([{ kind: "status", status: 422, body: { error: { message: "inputs[1] is an empty string" } } }]);
    const c = client(provider, double.url);
    const err = await c.embed(texts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmbeddingRejectedError);
    expect((err as EmbeddingRejectedError).kind).toBe("input");
    expect((err as Error).message).toContain("inputs[1] is an empty string");
    expect(double.requests).toHaveLength(1);

    double.script([{ kind: "status", status: 401, body: { error: "bad token" } }]);
    const err2 = await c.embed(texts).catch((e: unknown) => e);
    expect((err2 as EmbeddingRejectedError).kind).toBe("config");
    double.script([{ kind: "status", status: 413 }]);
    const err3 = await c.embed(texts).catch((e: unknown) => e);
    expect((err3 as EmbeddingRejectedError).kind).toBe("too_large");
    await c.close();
  });
});

describe("embedding client transport", () => {
  it("reports a refused connection as an outage after its retries", async () => {
    double = await startDouble(teiDouble);
    const url = double.url;
    await double.close();
    double = undefined;
    const c = client("tei", url, { retries: 1 });
    const err = await c.embed(["x"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmbeddingUnavailableError);
    expect((err as EmbeddingUnavailableError).attempts).toBe(2);
    await c.close();
  });

  it("stops at once when the caller aborts, without more attempts", async () => {
    double = await startDouble(teiDouble);
    double.script([{ kind: "stall" }]);
    const c = client("tei", double.url, { timeoutMs: 10_000 });
    const ac = new AbortController();
    const p = c.embed(["x"], ac.signal).catch((e: unknown) => e);
    await expect.poll(() => double?.requests.length).toBe(1);
    ac.abort(new Error("shutting down"));
    expect(((await p) as Error).message).toBe("shutting down");
    expect(double.requests).toHaveLength(1);
    await c.close();
  });

  it("keeps a base URL's path prefix and does not double /v1", async () => {
    double = await startDouble(openaiDouble);
    const c = client("openai", `${double.url}/v1`);
    await c.embed(["x"]);
    expect(double.requests[0]?.path).toBe("/v1/embeddings");
    await c.close();
  });
});
